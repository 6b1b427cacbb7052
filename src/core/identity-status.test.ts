import { describe, expect, it } from 'vitest';
import { deriveStatus } from './identity-status.js';

const NOW = 1_700_000_000_000_000;
const CREDENTIAL = 'sha256:abc';

describe('deriveStatus', () => {
  it('says locked whenever the identity is locked, whatever its credential and expiry', () => {
    for (const credential of [null, CREDENTIAL]) {
      for (const authExpire of [null, NOW - 1, NOW, NOW + 1]) {
        expect(deriveStatus({ locked: true, credential, authExpire }, NOW)).toBe('locked');
      }
    }
  });

  it('says provisioned for an identity with a credential that has not expired', () => {
    expect(deriveStatus({ locked: false, credential: CREDENTIAL, authExpire: null }, NOW)).toBe(
      'provisioned',
    );
    expect(deriveStatus({ locked: false, credential: CREDENTIAL, authExpire: NOW + 1 }, NOW)).toBe(
      'provisioned',
    );
  });

  it('says reprovision once the credential expiry has passed', () => {
    expect(deriveStatus({ locked: false, credential: CREDENTIAL, authExpire: NOW - 1 }, NOW)).toBe(
      'reprovision',
    );
  });

  it('says whitelisted for an identity without credential whose window is open', () => {
    expect(deriveStatus({ locked: false, credential: null, authExpire: null }, NOW)).toBe('whitelisted');
    expect(deriveStatus({ locked: false, credential: null, authExpire: NOW + 1 }, NOW)).toBe('whitelisted');
  });

  it('says expired once the provisioning window of an identity without credential has passed', () => {
    expect(deriveStatus({ locked: false, credential: null, authExpire: NOW - 1 }, NOW)).toBe('expired');
  });

  it('does not count an expiry equal to now as passed', () => {
    expect(deriveStatus({ locked: false, credential: CREDENTIAL, authExpire: NOW }, NOW)).toBe('provisioned');
    expect(deriveStatus({ locked: false, credential: null, authExpire: NOW }, NOW)).toBe('whitelisted');
  });

  it('treats an expiry of 0 as a real time long past, not as no expiry', () => {
    expect(deriveStatus({ locked: false, credential: null, authExpire: 0 }, NOW)).toBe('expired');
    expect(deriveStatus({ locked: false, credential: CREDENTIAL, authExpire: 0 }, NOW)).toBe('reprovision');
  });
});

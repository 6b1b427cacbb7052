import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateToken, hashSecret, MIN_PASSWORD_BYTES, storedCredential } from './credentials.js';
import { refusal } from './test-refusal.js';

// Made once with: openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
//   -subj /CN=dev-1 -days 36500 -keyout /dev/null -out -
const DEVICE_CERT = `-----BEGIN CERTIFICATE-----
MIIBdzCCAR2gAwIBAgIUH/X5ra+ySGBDDTutsoHVgCS9Nu8wCgYIKoZIzj0EAwIw
EDEOMAwGA1UEAwwFZGV2LTEwIBcNMjYxMTI2MDAyMDQ2WhgPMjEyNjExMDIwMDIw
NDZaMBAxDjAMBgNVBAMMBWRldi0xMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
tGqiUSbgVqQEcn1L4OEM9U8CmK9Dpqd33eTj2gyFPwiyMUfK5luw4Wmovt+OLGTg
HIMhhJ47gzX1YDE2PbJJmaNTMFEwHQYDVR0OBBYEFMYr963VLfdzgxNWJbK0g6Pp
ldYMMB8GA1UdIwQYMBaAFMYr963VLfdzgxNWJbK0g6PpldYMMA8GA1UdEwEB/wQF
MAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIhAIe9IsNcVX2rglIDLGnliF59ZOqwYVOS
xmL35LmPLWSTAiBDn9xcrpLmSbHSBEMxAKddqv52XrBjBGNdIXTyHjfEew==
-----END CERTIFICATE-----`;

describe('generateToken', () => {
  it('makes 40-character alphanumeric tokens', () => {
    for (let i = 0; i < 200; i++) expect(generateToken()).toMatch(/^[A-Za-z0-9]{40}$/);
  });

  it('never makes the same token twice', () => {
    const tokens = new Set(Array.from({ length: 5000 }, generateToken));
    expect(tokens.size).toBe(5000);
  });

  it('uses the whole alphabet', () => {
    const seen = new Set(Array.from({ length: 200 }, generateToken).join(''));
    expect(seen.size).toBe(62);
  });
});

describe('hashSecret', () => {
  it('hashes the same secret to the same value', () => {
    expect(hashSecret('a secret of some length')).toBe(hashSecret('a secret of some length'));
  });

  it('never returns the secret or any part of it', () => {
    const secret = generateToken();
    const hash = hashSecret(secret);
    expect(hash).not.toBe(secret);
    expect(hash).not.toContain(secret.slice(0, 8));
  });

  it('hashes different secrets, even close ones, differently', () => {
    expect(hashSecret('password-number-0001')).not.toBe(hashSecret('password-number-0002'));
    expect(hashSecret('é')).not.toBe(hashSecret('e\u0301'));
  });

  it('says which algorithm made the hash', () => {
    expect(hashSecret('x')).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
  });
});

describe('storedCredential', () => {
  it('keeps only the hash of a token', () => {
    const token = generateToken();
    expect(storedCredential('token', token)).toBe(hashSecret(token));
  });

  it('keeps only the hash of a password of at least 20 bytes', () => {
    const password = 'x'.repeat(MIN_PASSWORD_BYTES);
    expect(storedCredential('password', password)).toBe(hashSecret(password));
  });

  it('refuses a password under 20 bytes, naming auth.key', () => {
    const error = refusal(() => storedCredential('password', 'x'.repeat(19)));
    expect(error.parameter).toBe('auth.key');
    expect(error.message).toMatch(/20 bytes/);
    expect(refusal(() => storedCredential('password', '')).parameter).toBe('auth.key');
  });

  it('counts a password in UTF-8 bytes, not characters', () => {
    // "é" is 2 bytes and "🔑" 4: 10 characters or 5 characters can already make 20 bytes.
    expect(storedCredential('password', 'é'.repeat(10))).toBe(hashSecret('é'.repeat(10)));
    expect(storedCredential('password', '🔑'.repeat(5))).toBe(hashSecret('🔑'.repeat(5)));
    expect(refusal(() => storedCredential('password', 'é'.repeat(9) + 'a')).parameter).toBe('auth.key');
    expect(() => storedCredential('password', 'x'.repeat(19) + 'é')).not.toThrow();
  });

  it('keeps a certificate as its PEM, which is public', () => {
    const stored = storedCredential('certificate', DEVICE_CERT);
    expect(stored).toBe(DEVICE_CERT);
    expect(new X509Certificate(stored).subject).toBe('CN=dev-1');
  });

  it('keeps a certificate in one normal form whatever its line endings', () => {
    expect(storedCredential('certificate', DEVICE_CERT.replace(/\n/g, '\r\n') + '\r\n')).toBe(DEVICE_CERT);
  });

  it('refuses a certificate that does not parse as X.509, naming auth.key', () => {
    const corrupt = DEVICE_CERT.replace('MIIB', 'MIIC');
    const bodyOnly = DEVICE_CERT.split('\n').slice(1, -1).join('');
    for (const key of ['', 'not a certificate', corrupt, bodyOnly]) {
      const error = refusal(() => storedCredential('certificate', key));
      expect(error.parameter).toBe('auth.key');
      expect(error.message).toMatch(/X\.509/);
    }
  });
});

import { describe, expect, it } from 'vitest';
import {
  generateIdentity,
  identityFormatViolation,
  identitySpaceSize,
  nthIdentity,
} from './identity-format.js';
import type { IdentityFormat } from './schemas/settings.js';

type Casing = 'lower' | 'upper' | 'mixed';
const CASINGS: Casing[] = ['lower', 'upper', 'mixed'];
const PREFIX: Record<Casing, string> = { lower: 'dev-', upper: 'DEV-', mixed: 'Dev-' };

const violation = (identity: string, format: IdentityFormat) => identityFormatViolation(identity, format);

/** Every format the settings can name, with each casing and a spread of lengths and bases. */
function allFormats(): IdentityFormat[] {
  const formats: IdentityFormat[] = [];
  for (const casing of CASINGS) {
    for (const type of ['mac:48', 'mac-48', 'mac.48'] as const) {
      formats.push({ type, options: { casing } });
      formats.push({ type, options: { casing, mac_base: '00:1A:2b' } });
      formats.push({ type, options: { casing, mac_base: 'a1b2c3' } });
    }
    formats.push({ type: 'uuidv4', options: { casing } }, { type: 'opaque', options: { casing } });
    for (const type of ['base10', 'base16'] as const) {
      for (const length of [0, 1, 2, 5, 16, 40, 64]) {
        formats.push({ type, options: { casing, length } });
        formats.push({ type, prefix: PREFIX[casing], options: { casing, length } });
      }
    }
  }
  return formats;
}

describe('identityFormatViolation', () => {
  it('refuses what no identity may be in every format: separators, wildcards, commas, control characters, over 128 characters', () => {
    for (const format of [{ type: 'opaque' } as IdentityFormat, { type: 'base10' } as IdentityFormat]) {
      for (const identity of ['1/2', '1+2', '1#2', '1,2', '1\u00002', '1\n2', '', '1'.repeat(129)])
        expect(violation(identity, format), JSON.stringify(identity)).toBeDefined();
      expect(violation('1'.repeat(128), format)).toBeUndefined();
    }
  });

  it('accepts MAC addresses written with colons, dashes or dots only in their own format', () => {
    expect(violation('00:1a:2B:3c:4d:5e', { type: 'mac:48' })).toBeUndefined();
    expect(violation('00-1a-2B-3c-4d-5e', { type: 'mac-48' })).toBeUndefined();
    expect(violation('001.a2B.3c4.d5e', { type: 'mac.48' })).toBeUndefined();
    expect(violation('00-1a-2b-3c-4d-5e', { type: 'mac:48' })).toMatch(/mac:48/);
    expect(violation('00:1a:2b:3c:4d:5e', { type: 'mac-48' })).toMatch(/mac-48/);
    expect(violation('00:1a:2b:3c:4d:5e', { type: 'mac.48' })).toMatch(/mac\.48/);
  });

  it('refuses MAC addresses with the wrong number of digits or non-hex digits', () => {
    for (const bad of ['00:1a:2b:3c:4d', '00:1a:2b:3c:4d:5e:6f', '00:1a:2b:3c:4d:5g', '001a2b3c4d5e', '']) {
      expect(violation(bad, { type: 'mac:48' })).toBeDefined();
    }
    expect(violation('001.a2b.3c4.d5', { type: 'mac.48' })).toBeDefined();
    expect(violation('0012.a2b.3c4.d5e', { type: 'mac.48' })).toBeDefined();
  });

  it('requires MAC addresses to start with the MAC base whatever its separators and casing', () => {
    const colon: IdentityFormat = { type: 'mac:48', options: { mac_base: '00:1A:2B' } };
    expect(violation('00:1a:2b:3c:4d:5e', colon)).toBeUndefined();
    expect(violation('00:1a:2c:3c:4d:5e', colon)).toMatch(/MAC base 00:1A:2B/);
    const dots: IdentityFormat = { type: 'mac.48', options: { mac_base: '001A2B' } };
    expect(violation('001.A2B.3c4.d5e', dots)).toBeUndefined();
    expect(violation('001.A2C.3c4.d5e', dots)).toBeDefined();
    const dashes: IdentityFormat = { type: 'mac-48', options: { mac_base: '00-1a-2b' } };
    expect(violation('00-1A-2B-ff-ff-ff', dashes)).toBeUndefined();
  });

  it('accepts only version 4 UUIDs of the RFC variant for uuidv4', () => {
    expect(violation('e5fa76f8-1220-45c9-b972-3e2345851677', { type: 'uuidv4' })).toBeUndefined();
    expect(violation('E5FA76F8-1220-45C9-B972-3E2345851677', { type: 'uuidv4' })).toBeUndefined();
    expect(violation('e5fa76f8-1220-15c9-b972-3e2345851677', { type: 'uuidv4' })).toBeDefined();
    expect(violation('e5fa76f8-1220-45c9-c972-3e2345851677', { type: 'uuidv4' })).toBeDefined();
    expect(violation('e5fa76f812204 5c9b9723e2345851677', { type: 'uuidv4' })).toBeDefined();
  });

  it('requires exactly `length` digits for base10 and base16, and any number when length is 0', () => {
    expect(violation('0123456789', { type: 'base10', options: { length: 10 } })).toBeUndefined();
    expect(violation('012345678', { type: 'base10', options: { length: 10 } })).toMatch(/10 digits/);
    expect(violation('01234567890', { type: 'base10', options: { length: 10 } })).toBeDefined();
    expect(violation('12a', { type: 'base10' })).toBeDefined();
    expect(violation('7', { type: 'base10', options: { length: 0 } })).toBeUndefined();
    expect(violation('', { type: 'base10' })).toBeDefined();
    expect(violation('0aF9', { type: 'base16', options: { length: 4 } })).toBeUndefined();
    expect(violation('0aG9', { type: 'base16', options: { length: 4 } })).toBeDefined();
  });

  it('requires the prefix of base10 and base16 identities and leaves it out of the length', () => {
    const format: IdentityFormat = { type: 'base10', prefix: 'sn-', options: { length: 4 } };
    expect(violation('sn-1234', format)).toBeUndefined();
    expect(violation('1234', format)).toMatch(/prefix "sn-"/);
    expect(violation('sn-123', format)).toBeDefined();
    expect(violation('sn1234', format)).toBeDefined();
    expect(violation('ab12ef', { type: 'base16', prefix: 'ab', options: { length: 4 } })).toBeUndefined();
  });

  it('ignores the prefix for formats other than base10 and base16', () => {
    expect(violation('00:1a:2b:3c:4d:5e', { type: 'mac:48', prefix: 'x-' })).toBeUndefined();
    expect(violation('anything', { type: 'opaque', prefix: 'x-' })).toBeUndefined();
  });

  it('applies the casing to the whole identity, prefix included, for every type', () => {
    const lower = { casing: 'lower' } as const;
    const upper = { casing: 'upper' } as const;
    expect(violation('00:1A:2b:3c:4d:5e', { type: 'mac:48', options: lower })).toMatch(/lower case/);
    expect(violation('00:1A:2B:3C:4D:5E', { type: 'mac:48', options: upper })).toBeUndefined();
    expect(violation('00:1a:2B:3C:4D:5E', { type: 'mac:48', options: upper })).toMatch(/upper case/);
    expect(violation('Device-7', { type: 'opaque', options: lower })).toBeDefined();
    expect(violation('DEV-12', { type: 'base10', prefix: 'DEV-', options: upper })).toBeUndefined();
    expect(violation('dev-12', { type: 'base10', prefix: 'dev-', options: upper })).toMatch(/upper case/);
    expect(violation('ab12', { type: 'base16', prefix: 'ab', options: upper })).toBeDefined();
    expect(violation('aB12', { type: 'base16', options: { casing: 'mixed' } })).toBeUndefined();
  });

  it('accepts any non-empty string as an opaque identity', () => {
    expect(violation('Ünïcödé device №1', { type: 'opaque' })).toBeUndefined();
    expect(violation('', { type: 'opaque' })).toBeDefined();
  });
});

describe('generateIdentity', () => {
  it('always generates identities that conform to their format, for every type, casing and length', () => {
    for (const format of allFormats()) {
      for (let i = 0; i < 50; i++) {
        const identity = generateIdentity(format);
        expect(violation(identity, format), `${identity} for ${JSON.stringify(format)}`).toBeUndefined();
      }
    }
  });

  it('generates identities in the casing asked for, and lower case for mixed', () => {
    const upper = generateIdentity({ type: 'base16', options: { casing: 'upper', length: 64 } });
    expect(upper).toBe(upper.toUpperCase());
    expect(upper).toMatch(/[A-F]/);
    const mixed = generateIdentity({ type: 'mac:48', options: { casing: 'mixed', mac_base: 'AA:BB:CC' } });
    expect(mixed).toMatch(/^aa:bb:cc(:[0-9a-f]{2}){3}$/);
  });

  it('uses 16 digits when the length is 0', () => {
    expect(generateIdentity({ type: 'base10', options: { length: 0 } })).toMatch(/^\d{16}$/);
    expect(generateIdentity({ type: 'base16' })).toMatch(/^[0-9a-f]{16}$/);
  });

  it('draws decimal digits without a modulo bias', () => {
    let low = 0;
    let total = 0;
    for (let i = 0; i < 10_000; i++) {
      for (const digit of generateIdentity({ type: 'base10', options: { length: 64 } })) {
        if (digit < '6') low += 1;
        total += 1;
      }
    }
    // Fair digits put 60% in 0-5; `byte % 10` would put 60.9% there, 15 standard deviations off.
    expect(Math.abs(low / total - 0.6)).toBeLessThan(0.004);
  });

  it('generates distinct identities from a large space', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generateIdentity({ type: 'uuidv4' })));
    expect(seen.size).toBe(1000);
  });
});

describe('identitySpaceSize', () => {
  it('counts the identities a format allows', () => {
    expect(identitySpaceSize({ type: 'base10', options: { length: 3 } })).toBe(1000);
    expect(identitySpaceSize({ type: 'base16', prefix: 'x', options: { length: 2 } })).toBe(256);
    expect(identitySpaceSize({ type: 'mac-48', options: { mac_base: '00:11:22' } })).toBe(2 ** 24);
    expect(identitySpaceSize({ type: 'mac.48' })).toBe(2 ** 48);
    expect(identitySpaceSize({ type: 'uuidv4' })).toBe(Infinity);
    expect(identitySpaceSize({ type: 'opaque' })).toBe(Infinity);
  });
});

describe('nthIdentity', () => {
  const walk = (format: IdentityFormat) =>
    Array.from({ length: identitySpaceSize(format) }, (_, i) => nthIdentity(format, i));

  it('covers a small space exactly once with identities that conform', () => {
    const formats: IdentityFormat[] = [
      { type: 'base10', options: { length: 3 } },
      { type: 'base10', prefix: 'SN', options: { length: 2, casing: 'upper' } },
      ...CASINGS.map((casing): IdentityFormat => ({
        type: 'base16',
        prefix: PREFIX[casing],
        options: { casing, length: 3 },
      })),
    ];
    for (const format of formats) {
      const all = walk(format);
      expect(new Set(all).size).toBe(identitySpaceSize(format));
      for (const identity of all) expect(violation(identity, format), identity).toBeUndefined();
    }
  });

  it('walks the device part of a MAC space after the MAC base', () => {
    for (const type of ['mac:48', 'mac-48', 'mac.48'] as const) {
      const format: IdentityFormat = { type, options: { casing: 'upper', mac_base: '0a:1b:2c' } };
      const size = identitySpaceSize(format);
      const sample = [0, 1, 255, 4096, size - 1].map((i) => nthIdentity(format, i));
      expect(new Set(sample).size).toBe(sample.length);
      for (const identity of sample) expect(violation(identity, format), identity).toBeUndefined();
    }
    expect(nthIdentity({ type: 'mac:48', options: { mac_base: '0a1b2c' } }, 2 ** 24 - 1)).toBe(
      '0a:1b:2c:ff:ff:ff',
    );
  });

  it('reaches the whole 48 bits of a MAC space without a base', () => {
    expect(nthIdentity({ type: 'mac-48' }, 2 ** 48 - 1)).toBe('ff-ff-ff-ff-ff-ff');
    expect(nthIdentity({ type: 'mac.48' }, 2 ** 24)).toBe('000.001.000.000');
  });

  it('refuses indexes outside the space and formats that cannot be walked', () => {
    expect(() => nthIdentity({ type: 'base10', options: { length: 2 } }, 100)).toThrow(RangeError);
    expect(() => nthIdentity({ type: 'base10', options: { length: 2 } }, -1)).toThrow(RangeError);
    expect(() => nthIdentity({ type: 'uuidv4' }, 0)).toThrow(RangeError);
    expect(() => nthIdentity({ type: 'opaque' }, 0)).toThrow(RangeError);
  });
});

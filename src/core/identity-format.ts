import { randomBytes, randomUUID } from 'node:crypto';
import { IdentityString } from './schemas/common.js';
import type { IdentityFormat } from './schemas/settings.js';

const HEX = '[0-9A-Fa-f]';
const IDENTITY_CHARACTERS = new RegExp(IdentityString.pattern!);

function macBaseOctets(macBase: string | undefined): string | undefined {
  return macBase?.replace(/[:.-]/g, '').toLowerCase();
}

function applyCasing(value: string, casing: 'lower' | 'upper' | 'mixed'): string {
  return casing === 'upper' ? value.toUpperCase() : value.toLowerCase();
}

function bodyPattern(format: IdentityFormat): RegExp {
  const length = format.options?.length ?? 0;
  const digits = (cls: string) => (length > 0 ? `${cls}{${length}}` : `${cls}+`);
  switch (format.type) {
    case 'mac:48':
      return new RegExp(`^${HEX}{2}(:${HEX}{2}){5}$`);
    case 'mac-48':
      return new RegExp(`^${HEX}{2}(-${HEX}{2}){5}$`);
    case 'mac.48':
      return new RegExp(`^${HEX}{3}(\\.${HEX}{3}){3}$`);
    case 'uuidv4':
      return new RegExp(`^${HEX}{8}-${HEX}{4}-4${HEX}{3}-[89ABab]${HEX}{3}-${HEX}{12}$`);
    case 'base10':
      return new RegExp(`^${digits('[0-9]')}$`);
    case 'base16':
      return new RegExp(`^${digits(HEX)}$`);
    case 'opaque':
      return /^[\s\S]+$/;
  }
}

function hasPrefix(format: IdentityFormat): boolean {
  return (format.type === 'base10' || format.type === 'base16') && !!format.prefix;
}

/** Why `identity` does not conform to `format`, or undefined when it does. */
export function identityFormatViolation(identity: string, format: IdentityFormat): string | undefined {
  // What every identity must be, whatever the format (the API's schemas check the same).
  if (identity.length < IdentityString.minLength! || identity.length > IdentityString.maxLength!)
    return `must be ${IdentityString.minLength}–${IdentityString.maxLength} characters long`;
  if (!IDENTITY_CHARACTERS.test(identity)) return 'may not contain "/", "+", "#", "," or control characters';
  const casing = format.options?.casing ?? 'mixed';
  if (casing === 'lower' && identity !== identity.toLowerCase()) return 'must be lower case';
  if (casing === 'upper' && identity !== identity.toUpperCase()) return 'must be upper case';
  let body = identity;
  if (hasPrefix(format)) {
    const prefix = format.prefix ?? '';
    if (!identity.startsWith(prefix)) return `must start with the prefix "${prefix}"`;
    body = identity.slice(prefix.length);
  }
  if (!bodyPattern(format).test(body)) return `does not match the identity format ${describeFormat(format)}`;
  const base = macBaseOctets(format.options?.mac_base);
  if (base && format.type.startsWith('mac') && !body.replace(/[:.-]/g, '').toLowerCase().startsWith(base)) {
    return `must start with the MAC base ${format.options?.mac_base}`;
  }
  return undefined;
}

function describeFormat(format: IdentityFormat): string {
  const length = format.options?.length;
  return `"${format.type}"${length ? ` with ${length} digits` : ''}`;
}

/**
 * How many distinct identities `generateIdentity` can produce for the format (mixed casing
 * generates lower case only), or Infinity for UUID-like identities.
 */
export function identitySpaceSize(format: IdentityFormat): number {
  const length = format.options?.length || 16;
  if (format.type === 'base10') return 10 ** length;
  if (format.type === 'base16') return 16 ** length;
  if (format.type.startsWith('mac')) return macBaseOctets(format.options?.mac_base) ? 2 ** 24 : 2 ** 48;
  return Infinity;
}

function randomDigits(count: number, radix: 10 | 16): string {
  // Rejection sampling keeps every digit equally likely (10 does not divide 256), so random
  // picks collide no more often than the size of the space says.
  const limit = 256 - (256 % radix);
  let out = '';
  while (out.length < count) {
    for (const byte of randomBytes(count - out.length + 8)) {
      if (byte < limit && out.length < count) out += (byte % radix).toString(radix);
    }
  }
  return out;
}

function macFromHex(hex: string, type: IdentityFormat['type']): string {
  if (type === 'mac.48') return hex.match(/.{3}/g)!.join('.');
  return hex.match(/.{2}/g)!.join(type === 'mac-48' ? '-' : ':');
}

/** A random identity conforming to `format` (not checked for collisions). */
export function generateIdentity(format: IdentityFormat): string {
  const casing = format.options?.casing ?? 'mixed';
  const length = format.options?.length || 16;
  const prefix = hasPrefix(format) ? (format.prefix ?? '') : '';
  switch (format.type) {
    case 'base10':
      return prefix + randomDigits(length, 10);
    case 'base16':
      return prefix + applyCasing(randomDigits(length, 16), casing);
    case 'uuidv4':
    case 'opaque':
      return applyCasing(randomUUID(), casing);
    default: {
      const base = macBaseOctets(format.options?.mac_base) ?? randomDigits(6, 16);
      return applyCasing(macFromHex(base + randomDigits(6, 16), format.type), casing);
    }
  }
}

/**
 * The `index`-th identity of a space small enough to walk (base10, base16, MAC), for an
 * exhaustive search once random picks keep colliding; `index` runs over
 * [0, identitySpaceSize(format)).
 */
export function nthIdentity(format: IdentityFormat, index: number): string {
  const size = identitySpaceSize(format);
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`no identity number ${index} in the "${format.type}" identity space`);
  }
  const casing = format.options?.casing ?? 'mixed';
  const prefix = hasPrefix(format) ? (format.prefix ?? '') : '';
  const length = format.options?.length || 16;
  if (format.type === 'base10') return prefix + index.toString(10).padStart(length, '0');
  if (format.type === 'base16') return prefix + applyCasing(index.toString(16).padStart(length, '0'), casing);
  const base = macBaseOctets(format.options?.mac_base);
  const hex = base ? base + index.toString(16).padStart(6, '0') : index.toString(16).padStart(12, '0');
  return applyCasing(macFromHex(hex, format.type), casing);
}

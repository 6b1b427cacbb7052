import { hash, randomBytes, X509Certificate } from 'node:crypto';
import { invalidParameter } from './errors.js';
import type { AuthType } from './schemas/identity.js';

const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const MIN_PASSWORD_BYTES = 20;

/** A 40-character alphanumeric device token, the shape Murano devices expect from activation. */
export function generateToken(): string {
  let token = '';
  while (token.length < 40) {
    // Rejection sampling keeps every character equally likely (62 does not divide 256).
    for (const byte of randomBytes(48)) {
      if (byte < 248 && token.length < 40) token += TOKEN_ALPHABET[byte % 62];
    }
  }
  return token;
}

/**
 * Device secrets are machine-generated and at least 20 bytes for passwords (40 characters for
 * issued tokens), so a fast one-way hash is enough to keep them out of reach; a deliberately slow
 * KDF would cap the connect rate. Token hashes are looked up directly, so they carry no salt.
 * `hash` (one call, no Hash object) takes 0.24 µs here against 0.63 for createHash: it runs once
 * per HTTP device request.
 */
export function hashSecret(secret: string): string {
  return 'sha256:' + hash('sha256', secret, 'base64url');
}

/** What the store keeps for a credential: a hash for secrets, the PEM itself for certificates. */
export function storedCredential(type: AuthType, key: string): string {
  if (type === 'password' && Buffer.byteLength(key, 'utf8') < MIN_PASSWORD_BYTES) {
    throw invalidParameter('auth.key', `a password must be at least ${MIN_PASSWORD_BYTES} bytes`);
  }
  if (type === 'certificate') {
    try {
      return new X509Certificate(key).toString().trim();
    } catch {
      throw invalidParameter('auth.key', 'is not a PEM X.509 certificate');
    }
  }
  return hashSecret(key);
}

import { X509Certificate } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { invalidParameter } from './errors.js';
import type { SettingsStore } from './ports.js';
import { defaultSettings, GatewaySettings, type GatewaySettingsPatch } from './schemas/settings.js';
import { compileValidator } from './validate.js';
import type { Static } from '@sinclair/typebox';

const validateSettings = compileValidator(GatewaySettings, 'settings');

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays, scalars and null replace. */
function merge(base: unknown, patch: unknown, path = ''): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const parameter = path ? `${path}.${key}` : key;
    // Assigning "__proto__" would set the prototype, hiding the value from validation and storage.
    if (key === '__proto__') throw invalidParameter(parameter, 'is not a known parameter');
    out[key] = merge(Object.hasOwn(base, key) ? base[key] : undefined, value, parameter);
  }
  return out;
}

function checkSemantics(settings: GatewaySettings): void {
  const { identity_format: format, provisioning, pki } = settings;
  const casing = format.options?.casing ?? 'mixed';
  const prefix = format.prefix ?? '';
  if (casing === 'lower' && prefix !== prefix.toLowerCase()) {
    throw invalidParameter(
      'identity_format.prefix',
      'must be lower case, as identity_format.options.casing says',
    );
  }
  if (casing === 'upper' && prefix !== prefix.toUpperCase()) {
    throw invalidParameter(
      'identity_format.prefix',
      'must be upper case, as identity_format.options.casing says',
    );
  }
  provisioning.ip_whitelisting.allowed.forEach((entry, i) => {
    const [address, bits, ...rest] = entry.split('/');
    const validBits = bits === undefined || (/^\d{1,2}$/.test(bits) && Number(bits) <= 32);
    if (!address || !isIPv4(address) || !validBits || rest.length > 0) {
      throw invalidParameter(
        `provisioning.ip_whitelisting.allowed[${i}]`,
        'is not an IPv4 address or a.b.c.d/n range',
      );
    }
  });
  pki?.client_ca.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw invalidParameter(`pki.client_ca[${i}]`, 'is not a PEM X.509 certificate');
    }
  });
}

/**
 * The gateway settings, read on nearly every device and identity operation, so they are kept in
 * memory and written through.
 */
export class SettingsService {
  private cached: GatewaySettings | undefined;

  constructor(private readonly store: SettingsStore) {}

  async get(): Promise<GatewaySettings> {
    this.cached ??= (await this.store.get()) ?? defaultSettings();
    return this.cached;
  }

  async update(patch: Static<typeof GatewaySettingsPatch>): Promise<void> {
    this.cached = await this.store.update((current) => {
      const merged = validateSettings(merge(current ?? defaultSettings(), patch));
      checkSemantics(merged);
      return merged;
    });
  }

  async pairing(): Promise<{
    source: Record<string, unknown> | null;
    target: Record<string, unknown> | null;
  }> {
    const { solution_sync: sync } = await this.get();
    return { source: sync.source ?? null, target: sync.target ?? null };
  }
}

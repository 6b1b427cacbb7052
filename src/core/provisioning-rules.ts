import { isIPv4 } from 'node:net';
import type { GatewaySettings } from './schemas/settings.js';

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d. */
export function normalizeIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  return ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/** Whether `ip` may provision under `provisioning.ip_whitelisting` (addresses and a.b.c.d/n ranges). */
export function ipMayProvision(settings: GatewaySettings, ip: string | null): boolean {
  const { enabled, allowed } = settings.provisioning.ip_whitelisting;
  if (!enabled) return true;
  if (!ip || !isIPv4(ip)) return false;
  const address = ipv4ToInt(ip);
  return allowed.some((entry) => {
    const [base, bits] = entry.split('/');
    const prefix = bits === undefined ? 32 : Number(bits);
    // 2 ** (32 - prefix) blocks share one network number; division keeps clear of 32-bit shifts.
    const block = 2 ** (32 - prefix);
    return Math.floor(ipv4ToInt(base!) / block) === Math.floor(address / block);
  });
}

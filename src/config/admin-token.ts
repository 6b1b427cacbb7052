import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The configured token, or the one kept in the data directory, or a new one written there
 * (readable by the owner only). `generated` tells the caller to show it, this once.
 */
export function resolveAdminToken(
  configured: string | undefined,
  dataDir: string,
): { token: string; generated: boolean; file: string } {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (configured !== undefined) return { token: configured, generated: false, file };
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored !== '') return { token: stored, generated: false, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, generated: true, file };
}

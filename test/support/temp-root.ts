import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temporary file of a test run (databases, archives, certificates, the
 * data directories of spawned gateways) goes under one directory, removed when the run ends. The
 * tests make their files with `mkdtempSync(join(tmpdir(), …))` and leave them; without this, each
 * run left about a thousand directories in /tmp. `os.tmpdir()` reads TMPDIR at every call, and the
 * test workers and the processes they spawn inherit it.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'fleetgate-test-run-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}

import { open, readFile, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 100;
/** Locks this process holds: its own pid in a lock file means it holds it, unless it is not here. */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `work` holding `<path>.lock`, created exclusively with the holder's pid: the gateway's
 * archiving and `fleetgate archive` may write the same day file. A lock whose process is gone (a
 * crash) is taken over; a live one is waited for, up to `waitMs`.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>, waitMs = 600_000): Promise<T> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    const live =
      holder === process.pid ? held.has(lock) : Number.isInteger(holder) && holder > 0 && alive(holder);
    if (live) {
      if (Date.now() > deadline) throw new Error(`${path} is being written by process ${holder}`);
      await sleep(POLL_MS);
      continue;
    }
    // A holder that is gone (or a process of this pid, before a crash and the pid reused).
    await unlink(lock).catch(() => {});
  }
  held.add(lock);
  try {
    return await work();
  } finally {
    held.delete(lock);
    await unlink(lock).catch(() => {});
  }
}

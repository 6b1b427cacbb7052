import type Database from 'better-sqlite3';
import { writeTransaction } from './open-database.js';

/** One contact of a device: µs time, and the address and connection state it had then, if known. */
export interface Contact {
  at: number;
  ip?: string | null;
  online?: boolean;
}

export interface PresenceBuffer {
  /** Records a contact; it reaches the database with the next flush. */
  note(identity: string, contact: Contact): void;
  /** The contact recorded and not written yet, merged, if any. */
  pending(identity: string): Readonly<Contact> | undefined;
  /** Drops what was recorded for a removed identity. */
  forget(identity: string): void;
  /** Writes every recorded contact, now: queries on `lastseen`, `lastip` or `online` call it first. */
  flush(): void;
  /** Flushes, and stops the timer (before closing the database). */
  close(): void;
}

/** A record's presence with a contact not written yet applied, as the flush will store it. */
export function withContact<T extends { lastseen: number | null; lastip: string | null; online: boolean }>(
  record: T,
  contact: Readonly<Contact> | undefined,
): T {
  if (!contact) return record;
  const newest = contact.at >= (record.lastseen ?? 0);
  return {
    ...record,
    lastseen: newest ? contact.at : record.lastseen,
    lastip: newest && contact.ip != null ? contact.ip : record.lastip,
    online: contact.online ?? record.online,
  };
}

/** How long a contact waits to be written. */
const FLUSH_AFTER_MS = 500;

/**
 * Write-behind of devices' presence (`lastseen`, `lastip`, `online`).
 *
 * Every connect, disconnect, HTTP read and publish is a contact. Written one by one, each costs an
 * UPDATE of a random `identities` row and of its `lastseen` and `lastip` index entries: three pages
 * appended to the WAL for a few bytes of news, about a tenth of what a connect cost. Here
 * contacts are merged per identity in memory and written together every `FLUSH_AFTER_MS`, in one
 * transaction, where a burst of connects shares table and index pages, and an MQTT device that
 * publishes a thousand times in that time is written once.
 *
 * Nothing acknowledged depends on these columns, so a crash may lose the last half second of
 * them; `online` is reset at start anyway. A read never sees them stale: the identity store
 * flushes before queries that filter, sort or count (lists, counts, bulk updates), and a single
 * identity's record gets its pending contact applied (`withContact`), so that devices' own reads
 * do not flush one by one.
 */
export function createPresenceBuffer(
  db: Database.Database,
  /** Runs the timer's flush when the write lock is likely free (ingest-store.ts `whenIdle`). */
  whenIdle: (write: () => void) => void = (write) => write(),
): PresenceBuffer {
  const pending = new Map<string, Contact>();
  // `lastip` follows the newest contact: one stamped before the stored `lastseen` (the clock
  // stepped back) does not replace it.
  const update = db.prepare(`UPDATE identities SET
      lastip = CASE WHEN @ip IS NOT NULL AND @at >= coalesce(lastseen, 0) THEN @ip ELSE lastip END,
      lastseen = max(coalesce(lastseen, 0), @at),
      online = coalesce(@online, online)
    WHERE identity = @identity`);
  const params = { identity: '', at: 0, ip: null as string | null, online: null as number | null };
  const write = writeTransaction(db, () => {
    for (const [identity, contact] of pending) {
      params.identity = identity;
      params.at = contact.at;
      params.ip = contact.ip ?? null;
      params.online = contact.online === undefined ? null : contact.online ? 1 : 0;
      update.run(params);
    }
  });
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return;
    try {
      write();
      pending.clear();
    } catch (error) {
      // Rolled back: kept for the next flush, which the next contact or read brings.
      schedule();
      throw error;
    }
  }

  function schedule(): void {
    timer ??= setTimeout(() => {
      whenIdle(() => {
        try {
          flush();
        } catch {
          // The database is busy or closing; the contacts stay for the next flush.
        }
      });
    }, FLUSH_AFTER_MS).unref();
  }

  return {
    note(identity, contact) {
      const previous = pending.get(identity);
      if (!previous) {
        pending.set(identity, { at: contact.at, ip: contact.ip, online: contact.online });
      } else {
        // Contacts of one identity arrive in order; `at` only guards against a clock step back.
        if (contact.ip != null && contact.at >= previous.at) previous.ip = contact.ip;
        if (contact.online !== undefined) previous.online = contact.online;
        if (contact.at > previous.at) previous.at = contact.at;
      }
      schedule();
    },
    pending: (identity) => pending.get(identity),
    forget(identity) {
      pending.delete(identity);
    },
    flush,
    close() {
      if (db.open) flush();
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

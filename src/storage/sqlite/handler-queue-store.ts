import type Database from 'better-sqlite3';
import type { HandlerQueueStore, QueuedEvent } from '../../core/handler-queue-ports.js';
import type { GroupCommit } from './group-commit.js';

/**
 * Appends and removals go through the group commit: a turn's events share a transaction with each
 * other and with the webhook outbox's writes of the same turn.
 */
export function createSqliteHandlerQueueStore(
  db: Database.Database,
  groupCommit: GroupCommit,
): HandlerQueueStore {
  const insert = db.prepare<[string, string]>('INSERT INTO handler_queue (identity, body) VALUES (?, ?)');
  const after = db.prepare<[number, number], QueuedEvent>(
    'SELECT seq, identity, body FROM handler_queue WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  // One statement for a turn's handled events, however many.
  const remove = db.prepare<[string]>(
    'DELETE FROM handler_queue WHERE seq IN (SELECT value FROM json_each(?))',
  );
  const count = db.prepare<[string], number>('SELECT count(*) FROM handler_queue WHERE identity = ?').pluck();
  return {
    append(events) {
      return groupCommit.run(() => events.map((e) => Number(insert.run(e.identity, e.body).lastInsertRowid)));
    },
    after(afterSeq, limit) {
      return groupCommit.read(() => after.all(afterSeq, limit));
    },
    async remove(seqs) {
      if (seqs.length === 0) return;
      await groupCommit.run(() => remove.run(JSON.stringify(seqs)));
    },
    count(identity) {
      return groupCommit.read(() => count.get(identity) ?? 0);
    },
    clear() {
      return groupCommit.run(() => db.prepare('DELETE FROM handler_queue').run().changes);
    },
  };
}

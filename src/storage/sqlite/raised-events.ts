import type Database from 'better-sqlite3';
import type { GatewayEvent } from '../../core/events.js';
import type { GroupCommit } from './group-commit.js';

/**
 * The `raised_events` table, shared by the stores whose changes raise events (identity removal,
 * activation). `write` runs inside the change's transaction. The core forgets an event by the very
 * object it passed in (or got from `unforgotten`), so the row ids stay here, in a WeakMap: nothing
 * is kept for an event that is never forgotten, and the port needs no ids of its own.
 */
export function createRaisedEvents(db: Database.Database, groupCommit: GroupCommit) {
  const insert = db.prepare<[string]>('INSERT INTO raised_events (event) VALUES (?)');
  const remove = db.prepare<[string]>(
    'DELETE FROM raised_events WHERE id IN (SELECT value FROM json_each(?))',
  );
  const all = db.prepare<[], { id: number; event: string }>(
    'SELECT id, event FROM raised_events ORDER BY id',
  );
  const rowOf = new WeakMap<GatewayEvent, number>();

  return {
    /** Inside the change's transaction: rolled back with it. */
    write(events: readonly GatewayEvent[]): void {
      for (const event of events) rowOf.set(event, Number(insert.run(JSON.stringify(event)).lastInsertRowid));
    },

    async unforgotten(): Promise<GatewayEvent[]> {
      return all.all().map((row) => {
        const event = JSON.parse(row.event) as GatewayEvent;
        rowOf.set(event, row.id);
        return event;
      });
    },

    async forget(events: readonly GatewayEvent[]): Promise<void> {
      const ids = events.map((event) => rowOf.get(event)).filter((id) => id !== undefined);
      if (ids.length === 0) return;
      await groupCommit.run(() => remove.run(JSON.stringify(ids)));
    },
  };
}

export type RaisedEvents = ReturnType<typeof createRaisedEvents>;

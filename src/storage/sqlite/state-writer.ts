import type Database from 'better-sqlite3';
import type { WriteResult } from '../../core/device-ports.js';
import type { StateWrite } from '../../core/ports.js';

/** What one commit holds for one resource of one identity. */
interface Slot {
  /** The newest state of the batch: the one written. */
  newest: StateWrite;
  /** The oldest state of the batch. */
  oldest: number;
  /** The stored state's time, read once the batch holds a second state for the slot. */
  stored: number | undefined;
  /** The stored state was newer than `newest`: no state of the batch became the state. */
  keptAll: boolean;
}

/**
 * The `identity_state` rows of one ingest commit. Per identity and resource only the newest state
 * of the batch is written, and not at all when the stored state is newer (a recorded value of the
 * past). It also tells which writes' states did not become the state (data_in's
 * `updated_resources`): a state older than the stored one, or than an earlier state of the same
 * batch, exactly as if the writes had been committed one by one. The stored time is read only for
 * resources the batch holds more than one state of; a lone state learns it from the upsert.
 */
export function createStateWriter(db: Database.Database) {
  // A report older than the stored state (a batch of history) is kept as a sample only.
  const upsertState =
    db.prepare(`INSERT INTO identity_state (identity_id, resource, set_value, reported_value, timestamp)
    VALUES (?, ?, ?, ?, ?) ON CONFLICT (identity_id, resource) DO UPDATE SET
      set_value = excluded.set_value, reported_value = excluded.reported_value, timestamp = excluded.timestamp
    WHERE excluded.timestamp >= identity_state.timestamp`);
  const storedAt = db
    .prepare<[number, string], number>(
      'SELECT timestamp FROM identity_state WHERE identity_id = ? AND resource = ?',
    )
    .pluck();
  let slots = new Map<number, Map<string, Slot>>();
  /** `<write index> <resource>` of states older than an earlier one of the batch (rare). */
  let olderInBatch: Set<string> | undefined;

  function slotOf(id: number, resource: string): Slot | undefined {
    return slots.get(id)?.get(resource);
  }

  return {
    /** A new batch (also after a rollback: nothing of the last one was written). */
    begin(): void {
      slots = new Map();
      olderInBatch = undefined;
    },

    /** The states of write `k` (of identity `id`), in the batch's order. */
    add(k: number, id: number, states: StateWrite[]): void {
      let byResource = slots.get(id);
      if (!byResource) slots.set(id, (byResource = new Map<string, Slot>()));
      for (const state of states) {
        const slot = byResource.get(state.resource);
        if (!slot) {
          byResource.set(state.resource, {
            newest: state,
            oldest: state.timestamp,
            stored: undefined,
            keptAll: false,
          });
          continue;
        }
        slot.stored ??= storedAt.get(id, state.resource) ?? -Infinity;
        if (state.timestamp < slot.newest.timestamp)
          (olderInBatch ??= new Set()).add(`${k} ${state.resource}`);
        else slot.newest = state;
        if (state.timestamp < slot.oldest) slot.oldest = state.timestamp;
      }
    },

    /** Writes the batch's states, and marks in `outcomes` the writes whose state was kept. */
    write(
      writes: { state: StateWrite[] }[],
      idOf: (k: number) => number | undefined,
      outcomes: WriteResult[],
    ): void {
      let anyKept = olderInBatch !== undefined;
      for (const [id, byResource] of slots) {
        for (const slot of byResource.values()) {
          const json = JSON.stringify(slot.newest.reported);
          if (upsertState.run(id, slot.newest.resource, json, json, slot.newest.timestamp).changes === 0)
            anyKept = slot.keptAll = true;
          else if (slot.stored !== undefined && slot.oldest < slot.stored) anyKept = true;
        }
      }
      if (!anyKept) return;
      writes.forEach((write, k) => {
        const id = idOf(k);
        if (id === undefined || !outcomes[k]) return;
        const kept = write.state
          .filter((state) => {
            const slot = slotOf(id, state.resource)!;
            return (
              slot.keptAll ||
              (slot.stored !== undefined && state.timestamp < slot.stored) ||
              olderInBatch?.has(`${k} ${state.resource}`) === true
            );
          })
          .map((state) => state.resource);
        if (kept.length > 0) outcomes[k] = { kept };
      });
    },
  };
}

import type Database from 'better-sqlite3';
import type { DeviceCredentialRecord, DeviceIdentityStore } from '../../core/device-ports.js';
import type { AuthType } from '../../core/schemas/identity.js';
import type { GatewayEvent } from '../../core/events.js';
import { createGroupCommit, type GroupCommit } from './group-commit.js';
import { conflict } from './identity-rows.js';
import { createRaisedEvents, type RaisedEvents } from './raised-events.js';
import { writeTransaction } from './open-database.js';

/** identity, auth_type, credential, auth_expire, locked, permission: raw rows, no keys to build. */
type CredentialRow = [string, string, string | null, number | null, number, string];

const toRecord = (row: CredentialRow | undefined): DeviceCredentialRecord | undefined =>
  row && {
    identity: row[0],
    authType: row[1] as AuthType,
    credential: row[2],
    authExpire: row[3],
    locked: row[4] === 1,
    permission: JSON.parse(row[5]) as DeviceCredentialRecord['permission'],
  };

const SELECT = 'SELECT identity, auth_type, credential, auth_expire, locked, permission FROM identities';

export function createSqliteDeviceIdentityStore(
  db: Database.Database,
  groupCommit: GroupCommit = createGroupCommit(db),
  raised: RaisedEvents = createRaisedEvents(db, groupCommit),
): DeviceIdentityStore {
  const byIdentity = db.prepare<[string], CredentialRow>(`${SELECT} WHERE identity = ?`).raw(true);
  // Served by the partial unique index on token credentials.
  const byToken = db
    .prepare<[string], CredentialRow>(
      `${SELECT} WHERE auth_type = 'token' AND credential = ? AND credential IS NOT NULL`,
    )
    .raw(true);
  const update =
    db.prepare(`UPDATE identities SET auth_type = @authType, credential = @credential, auth_expire = NULL
    WHERE identity = @identity AND credential IS @expected`);
  const provision = writeTransaction(
    db,
    (
      change: { identity: string; expected: string | null; authType: string; credential: string },
      event?: GatewayEvent,
    ) => {
      if (update.run(change).changes === 0) return false;
      if (event) raised.write([event]);
      return true;
    },
  );
  // A lookup joins the group commit only when writes are queued (it must see a device that was
  // just provisioned); otherwise it reads at once. Tried: every lookup in the group commit, to
  // share one transaction's WAL locks. Under a connect storm a turn of the event loop still
  // carries about one lookup, and its BEGIN, COMMIT and setImmediate cost more than the two
  // fcntl calls of the locks (micro-benchmark: 15–18 µs against 7 per lookup).
  return {
    byIdentity(identity) {
      return groupCommit.read(() => toRecord(byIdentity.get(identity)));
    },
    byTokenHash(hash) {
      return groupCommit.read(() => toRecord(byToken.get(hash)));
    },
    async provision(identity, expected, next, event) {
      try {
        return provision({ identity, expected, ...next }, event);
      } catch (error) {
        conflict(error);
      }
    },
  };
}

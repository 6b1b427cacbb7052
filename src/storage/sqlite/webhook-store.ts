import type Database from 'better-sqlite3';
import type { EventType } from '../../core/schemas/event.js';
import type {
  FailedDelivery,
  NewDelivery,
  PendingDelivery,
  WebhookRecord,
  WebhookStore,
} from '../../core/webhook-ports.js';
import type { GroupCommit } from './group-commit.js';
import { StatementCache } from './statement-cache.js';

interface WebhookRow {
  id: string;
  url: string;
  secret: string;
  types: string | null;
  identities: string | null;
  source: 'api' | 'config';
  created_at: number;
}

interface DeliveryRow {
  seq: number;
  webhook_id: string;
  identity: string;
  event_id: string;
  body: string;
  created_at: number;
  attempts: number;
}

interface FailedRow extends Omit<DeliveryRow, 'seq'> {
  id: number;
  last_error: string;
  failed_at: number;
}

interface ProgressRow {
  id: string;
  delivered_until: number | null;
  delivered_at: number | null;
  head_attempts: number | null;
  failed: number;
  failed_at: number | null;
}

const toRecord = (row: WebhookRow): WebhookRecord => ({
  id: row.id,
  url: row.url,
  secret: row.secret,
  types: row.types === null ? null : (JSON.parse(row.types) as EventType[]),
  identities: row.identities === null ? null : (JSON.parse(row.identities) as string[]),
  source: row.source,
  createdAt: row.created_at,
});

const toPending = (row: DeliveryRow): PendingDelivery => ({
  seq: row.seq,
  webhookId: row.webhook_id,
  identity: row.identity,
  eventId: row.event_id,
  body: row.body,
  createdAt: row.created_at,
  attempts: row.attempts,
});

const toFailed = (row: FailedRow): FailedDelivery => ({
  id: row.id,
  webhookId: row.webhook_id,
  identity: row.identity,
  eventId: row.event_id,
  body: row.body,
  createdAt: row.created_at,
  attempts: row.attempts,
  lastError: row.last_error,
  failedAt: row.failed_at,
});

const DELIVERY_COLUMNS = 'seq, webhook_id, identity, event_id, body, created_at, attempts';

/**
 * Writes go through the store's group commit, so the outbox writes of one turn of the event loop
 * (a batch of events, the outcomes of several deliveries) share a transaction with each other and
 * with the registry's writes, and run in the order they were asked for.
 */
export function createSqliteWebhookStore(db: Database.Database, groupCommit: GroupCommit): WebhookStore {
  const statements = new StatementCache(db);
  const stmt = (sql: string) => statements.get(sql);

  const openLane = (webhookId: string, identity: string, dueAt: number) =>
    stmt(
      'INSERT INTO webhook_lanes (webhook_id, identity, due_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(webhookId, identity, dueAt);

  /** After the first delivery of a lane left the outbox: the next one is due now, or the lane ends. */
  function advanceLane(webhookId: string, identity: string, now: number): void {
    const next = stmt(
      'SELECT seq FROM webhook_outbox WHERE webhook_id = ? AND identity = ? ORDER BY seq LIMIT 1',
    ).get(webhookId, identity);
    if (next) {
      stmt('UPDATE webhook_lanes SET due_at = ? WHERE webhook_id = ? AND identity = ?').run(
        now,
        webhookId,
        identity,
      );
    } else {
      stmt('DELETE FROM webhook_lanes WHERE webhook_id = ? AND identity = ?').run(webhookId, identity);
    }
  }

  function enqueue(deliveries: NewDelivery[]): number {
    const existing = new Set(
      (stmt('SELECT id FROM webhooks').all() as { id: string }[]).map((row) => row.id),
    );
    const insert = stmt(
      'INSERT INTO webhook_outbox (webhook_id, identity, event_id, body, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    let queued = 0;
    // One lane per webhook and identity: a device's many events of one turn open it once.
    const opened = new Set<string>();
    for (const d of deliveries) {
      if (!existing.has(d.webhookId)) continue;
      insert.run(d.webhookId, d.identity, d.eventId, d.body, d.createdAt);
      const lane = `${d.webhookId.length}:${d.webhookId}${d.identity}`;
      if (!opened.has(lane)) {
        opened.add(lane);
        openLane(d.webhookId, d.identity, d.createdAt);
      }
      queued++;
    }
    return queued;
  }

  function requeue(webhookId: string, id: number | undefined, now: number): number {
    const where = id === undefined ? 'webhook_id = ?' : 'webhook_id = ? AND id = ?';
    const params = id === undefined ? [webhookId] : [webhookId, id];
    const rows = stmt(
      `SELECT identity, event_id, body, created_at FROM webhook_failed WHERE ${where} ORDER BY id`,
    ).all(...params) as { identity: string; event_id: string; body: string; created_at: number }[];
    const insert = stmt(
      'INSERT INTO webhook_outbox (webhook_id, identity, event_id, body, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    for (const row of rows) {
      insert.run(webhookId, row.identity, row.event_id, row.body, row.created_at);
      openLane(webhookId, row.identity, now);
    }
    stmt(`DELETE FROM webhook_failed WHERE ${where}`).run(...params);
    return rows.length;
  }

  const busyList = (busy: string[]) => JSON.stringify(busy);

  /** A data_in delivered: the newest reported time of its payload is where the webhook is. */
  function recordProgress(seq: number, now: number): void {
    stmt(
      `INSERT INTO webhook_progress (webhook_id, identity, delivered_until, delivered_at)
       SELECT webhook_id, identity,
         (SELECT max(json_extract(p.value, '$.timestamp')) FROM json_each(body, '$.payload') AS p), ?
       FROM webhook_outbox WHERE seq = ? AND json_extract(body, '$.type') = 'data_in'
       ON CONFLICT (webhook_id, identity) DO UPDATE SET delivered_at = excluded.delivered_at,
         delivered_until = CASE WHEN delivered_until IS NULL OR excluded.delivered_until > delivered_until
           THEN coalesce(excluded.delivered_until, delivered_until) ELSE delivered_until END`,
    ).run(now, seq);
  }

  return {
    async put(webhook) {
      await groupCommit.run(() =>
        stmt(
          `INSERT INTO webhooks (id, url, secret, types, identities, source, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret,
             types = excluded.types, identities = excluded.identities, source = excluded.source`,
        ).run(
          webhook.id,
          webhook.url,
          webhook.secret,
          webhook.types && JSON.stringify(webhook.types),
          webhook.identities && JSON.stringify(webhook.identities),
          webhook.source,
          webhook.createdAt,
        ),
      );
    },
    async list() {
      return (stmt('SELECT * FROM webhooks ORDER BY created_at, id').all() as WebhookRow[]).map(toRecord);
    },
    async get(id) {
      const row = stmt('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
      return row && toRecord(row);
    },
    async remove(id) {
      return groupCommit.run(() => stmt('DELETE FROM webhooks WHERE id = ?').run(id).changes > 0);
    },
    async counts(id) {
      const count = (table: string) =>
        (stmt(`SELECT count(*) AS n FROM ${table} WHERE webhook_id = ?`).get(id) as { n: number }).n;
      return { pending: count('webhook_outbox'), failed: count('webhook_failed') };
    },

    async enqueue(deliveries) {
      if (deliveries.length === 0) return 0;
      return groupCommit.run(() => enqueue(deliveries));
    },
    async due(webhookId, now, busy, limit) {
      const lanes = stmt(
        `SELECT identity FROM webhook_lanes
         WHERE webhook_id = ? AND due_at <= ? AND identity NOT IN (SELECT value FROM json_each(?))
         ORDER BY due_at LIMIT ?`,
      ).all(webhookId, now, busyList(busy), limit) as { identity: string }[];
      const first = stmt(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_outbox WHERE webhook_id = ? AND identity = ? ORDER BY seq LIMIT 1`,
      );
      const heads: PendingDelivery[] = [];
      for (const { identity } of lanes) {
        const row = first.get(webhookId, identity) as DeliveryRow | undefined;
        if (row) heads.push(toPending(row));
        // A lane without deliveries would be picked again and again; none should exist.
        else stmt('DELETE FROM webhook_lanes WHERE webhook_id = ? AND identity = ?').run(webhookId, identity);
      }
      return heads;
    },
    async nextDue(webhookId, busy) {
      const row = stmt(
        `SELECT due_at FROM webhook_lanes
         WHERE webhook_id = ? AND identity NOT IN (SELECT value FROM json_each(?))
         ORDER BY due_at LIMIT 1`,
      ).get(webhookId, busyList(busy)) as { due_at: number } | undefined;
      return row?.due_at;
    },
    async delivered(delivery, now) {
      await groupCommit.run(() => {
        recordProgress(delivery.seq, now);
        stmt('DELETE FROM webhook_outbox WHERE seq = ?').run(delivery.seq);
        advanceLane(delivery.webhookId, delivery.identity, now);
      });
    },
    async postpone(delivery, attempts, lastError, retryAt) {
      await groupCommit.run(() => {
        stmt('UPDATE webhook_outbox SET attempts = ?, last_error = ? WHERE seq = ?').run(
          attempts,
          lastError,
          delivery.seq,
        );
        stmt('UPDATE webhook_lanes SET due_at = ? WHERE webhook_id = ? AND identity = ?').run(
          retryAt,
          delivery.webhookId,
          delivery.identity,
        );
      });
    },
    async fail(delivery, attempts, lastError, now) {
      await groupCommit.run(() => {
        const moved = stmt(
          `INSERT INTO webhook_failed (webhook_id, identity, event_id, body, created_at, attempts, last_error, failed_at)
           SELECT webhook_id, identity, event_id, body, created_at, ?, ?, ? FROM webhook_outbox WHERE seq = ?`,
        ).run(attempts, lastError, now, delivery.seq);
        if (moved.changes === 0) return; // the webhook was removed meanwhile
        stmt('DELETE FROM webhook_outbox WHERE seq = ?').run(delivery.seq);
        advanceLane(delivery.webhookId, delivery.identity, now);
      });
    },

    async listFailed(webhookId, after, limit) {
      return (
        stmt('SELECT * FROM webhook_failed WHERE webhook_id = ? AND id > ? ORDER BY id LIMIT ?').all(
          webhookId,
          after,
          limit,
        ) as FailedRow[]
      ).map(toFailed);
    },
    async requeueFailed(webhookId, id, now) {
      return groupCommit.run(() => requeue(webhookId, id, now));
    },
    async progress(identity) {
      const rows = stmt(
        `SELECT w.id, p.delivered_until, p.delivered_at,
           (SELECT attempts FROM webhook_outbox o WHERE o.webhook_id = w.id AND o.identity = @identity
             ORDER BY seq LIMIT 1) AS head_attempts,
           (SELECT count(*) FROM webhook_failed f WHERE f.webhook_id = w.id AND f.identity = @identity) AS failed,
           (SELECT max(failed_at) FROM webhook_failed f WHERE f.webhook_id = w.id AND f.identity = @identity) AS failed_at
         FROM webhooks w LEFT JOIN webhook_progress p ON p.webhook_id = w.id AND p.identity = @identity
         ORDER BY w.created_at, w.id`,
      ).all({ identity }) as ProgressRow[];
      return rows.map((row) => ({
        webhookId: row.id,
        deliveredUntil: row.delivered_until,
        deliveredAt: row.delivered_at,
        pending: row.head_attempts !== null,
        retrying: (row.head_attempts ?? 0) > 0,
        failed: row.failed,
        failedAt: row.failed_at,
      }));
    },
    async discardFailed(webhookId, id) {
      return groupCommit.run(() =>
        id === undefined
          ? stmt('DELETE FROM webhook_failed WHERE webhook_id = ?').run(webhookId).changes
          : stmt('DELETE FROM webhook_failed WHERE webhook_id = ? AND id = ?').run(webhookId, id).changes,
      );
    },
  };
}

/**
 * Webhooks and their deliveries (versions 3 and 4 belong to other parts of the gateway).
 *
 * `webhook_outbox` holds every delivery not yet made, in queue order (`seq`); `webhook_lanes`
 * has one row per (webhook, identity) with deliveries waiting, saying when its first one is
 * due, so that finding the due lanes is one range of an index however long the outbox grows.
 * Deliveries that ran out of attempts move to `webhook_failed`.
 */
export const sql = `
CREATE TABLE webhooks (
  id         TEXT    PRIMARY KEY,
  url        TEXT    NOT NULL,
  secret     TEXT    NOT NULL,
  types      TEXT,
  identities TEXT,
  source     TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE webhook_outbox (
  seq        INTEGER PRIMARY KEY,
  webhook_id TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  identity   TEXT    NOT NULL,
  event_id   TEXT    NOT NULL,
  body       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT
);
CREATE INDEX webhook_outbox_lane ON webhook_outbox (webhook_id, identity, seq);

CREATE TABLE webhook_lanes (
  webhook_id TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  identity   TEXT    NOT NULL,
  due_at     INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, identity)
) WITHOUT ROWID;
CREATE INDEX webhook_lanes_due ON webhook_lanes (webhook_id, due_at);

CREATE TABLE webhook_failed (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook_id TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  identity   TEXT    NOT NULL,
  event_id   TEXT    NOT NULL,
  body       TEXT    NOT NULL,
  created_at INTEGER NOT NULL,
  attempts   INTEGER NOT NULL,
  last_error TEXT    NOT NULL,
  failed_at  INTEGER NOT NULL
);
CREATE INDEX webhook_failed_by_webhook ON webhook_failed (webhook_id, id);
`;

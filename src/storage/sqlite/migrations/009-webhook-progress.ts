/**
 * Where each webhook is with each identity's data (querySignalSubscribers' sync_to_cloud sessions):
 * the newest reported time of the data_in events delivered, written with each delivery. Versions 7
 * and 8 are left to the time-series work that this branch builds on.
 */
export const sql = `
CREATE TABLE webhook_progress (
  webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  identity        TEXT    NOT NULL,
  delivered_until INTEGER,          -- newest payload timestamp (µs) of the data_in events delivered
  delivered_at    INTEGER NOT NULL, -- server µs of the last data_in delivered
  PRIMARY KEY (webhook_id, identity)
) WITHOUT ROWID;
CREATE INDEX webhook_progress_by_identity ON webhook_progress (identity);
CREATE INDEX webhook_failed_by_identity ON webhook_failed (webhook_id, identity, failed_at);

CREATE TRIGGER webhook_progress_of_deleted_identity AFTER DELETE ON identities BEGIN
  DELETE FROM webhook_progress WHERE identity = old.identity;
END;
`;

/**
 * The event handler module's queue: every event waits here until the handler has been called with
 * it, so that a stop or a crash only delays it. AUTOINCREMENT: a position is never given twice, even
 * once the queue has been emptied, since the runner tells new events from loaded ones by it.
 */
export const sql = `
CREATE TABLE handler_queue (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  identity TEXT    NOT NULL,
  body     TEXT    NOT NULL
);
CREATE INDEX handler_queue_by_identity ON handler_queue (identity);
`;

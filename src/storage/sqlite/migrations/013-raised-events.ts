/**
 * Events raised by identity changes (`deleted`, `provisioned`), written in the change's own
 * transaction and kept until the event consumers have stored them: a run that dies between the
 * commit and the consumers' write leaves them here, and the next start raises them (CONTRACT §4,
 * at least once). AUTOINCREMENT: ids are never reused, so they also give the order to raise them in.
 */
export const sql = `
CREATE TABLE raised_events (
  id    INTEGER PRIMARY KEY AUTOINCREMENT,
  event TEXT NOT NULL
);
`;

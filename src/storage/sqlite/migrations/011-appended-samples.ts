/**
 * Samples of a series that only grows, committed with their rollups and signal but not yet in
 * their partition (docs/time-series.md, "Appended samples"). A group commit of many devices would
 * otherwise insert at one place of the partition's B-tree per device (about four pages each); here
 * it appends to the end of one table, and a mover inserts them in key order, many per series at
 * once. `part` names the partition (retention × 1,000,000 + YYYYMM).
 */
export const sql = `
CREATE TABLE appended_samples (
  seq         INTEGER PRIMARY KEY,
  part        INTEGER NOT NULL,
  identity    TEXT    NOT NULL,
  resource    TEXT    NOT NULL,
  timestamp   INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  value
);
`;

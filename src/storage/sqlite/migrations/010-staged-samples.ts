/**
 * Samples committed but not yet in their partition (docs/time-series.md, "Staged samples"). A
 * commit of a few samples from many devices appends them here, to the last page or two of one
 * table, instead of touching a samples page, two rollup pages and a `signals` page per device; a
 * mover places them in batches, and every read of samples, rollups or signals moves them first.
 * `seq` orders them as they were committed, so a later sample with the same identity, signal
 * and time still replaces an earlier one.
 */
export const sql = `
CREATE TABLE staged_samples (
  seq         INTEGER PRIMARY KEY,
  identity    TEXT    NOT NULL,
  signal      TEXT    NOT NULL,
  resource    TEXT    NOT NULL,
  retention   INTEGER NOT NULL,
  timestamp   INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  value
);
`;

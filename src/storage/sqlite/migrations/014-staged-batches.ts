/**
 * Staged samples (docs/time-series.md, "Staged samples") as one row per commit instead of one per
 * sample: a JSON array with, per write, `[identity, received_at, signal, resource, retention,
 * timestamp, value, …]` (five fields per sample). A commit then inserts one row, and the mover
 * reads a few hundred rows and deletes them instead of tens of thousands; in the HTTP bench the
 * mover's transactions took 5.1 % of the ingest thread before and 3.3 % after. `seq` still orders
 * them as they were committed (a commit of many long strings takes a few). Samples staged by an
 * older build are carried over in their order, 100 to a row, so that no row nears the limit on the
 * length of a value (~512 MiB with better-sqlite3) even if every value is a 64 KiB string.
 */
export const sql = `
CREATE TABLE staged_batches (
  seq     INTEGER PRIMARY KEY,
  samples TEXT NOT NULL
);
INSERT INTO staged_batches (samples)
  SELECT json_group_array(json_array(identity, received_at, signal, resource, retention, timestamp, value) ORDER BY seq)
  FROM staged_samples GROUP BY seq / 100 ORDER BY seq / 100;
DROP TABLE staged_samples;
`;

/**
 * Per-minute rollups of the device metrics (see docs/device2-semantics.md, "Device metrics").
 *
 * `identity` and `reason` are '' rather than NULL when absent, so that the primary key sees two
 * rollups without identity as the same row and a second flush of a minute merges into it. The
 * key leads with the metric and the minute, the shape of every query and of pruning.
 */
export const sql = `
CREATE TABLE device_metric_minutes (
  metric TEXT NOT NULL,
  minute INTEGER NOT NULL,
  identity TEXT NOT NULL,
  reason TEXT NOT NULL,
  n INTEGER NOT NULL,
  total REAL NOT NULL,
  low REAL NOT NULL,
  high REAL NOT NULL,
  PRIMARY KEY (metric, minute, identity, reason)
) WITHOUT ROWID;
`;

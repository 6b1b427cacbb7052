/**
 * Time-series samples live in one table per UTC month (`samples_YYYYMM`, created by the ingest
 * adapter on first use), so that retention drops whole tables instead of deleting rows. This
 * table lists the partitions and the time range each covers.
 */
export const sql = `
CREATE TABLE sample_partitions (
  month      INTEGER PRIMARY KEY, -- YYYYMM, UTC
  table_name TEXT    NOT NULL UNIQUE,
  start_us   INTEGER NOT NULL,    -- first µs of the month
  end_us     INTEGER NOT NULL     -- first µs of the next month
);
`;

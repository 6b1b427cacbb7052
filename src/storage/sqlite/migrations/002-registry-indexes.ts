/** The largest SQLite integer, as SQL text: an absent expiry sorts after every time. */
export const NEVER = '9223372036854775807';

/**
 * The status index, shaped for counting and filtering by status (see BENCHMARKS.md, "Registry").
 *
 * The lifecycle status is derived from (locked, credential present, auth_expire against now), so
 * the index holds exactly those three keys, with a missing expiry stored as "never": each status
 * is then one range of the index, and counting a status reads only that range of the index.
 * identity-query-sql.ts writes the status filters with these very expressions.
 */
export const sql = `
DROP INDEX identities_status;
CREATE INDEX identities_status ON identities (locked, credential IS NULL, ifnull(auth_expire, ${NEVER}));
`;

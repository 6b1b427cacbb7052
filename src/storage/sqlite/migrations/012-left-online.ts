/**
 * The identities a run that died left online, kept until their disconnect events are stored: the
 * store moves them here from `online` when it opens (one transaction), and the gateway forgets them
 * once it has raised their disconnects. A start that fails in between leaves them for the next.
 */
export const sql = `
CREATE TABLE left_online (
  identity TEXT PRIMARY KEY,
  ip       TEXT
) WITHOUT ROWID;

CREATE TRIGGER left_online_of_deleted_identity AFTER DELETE ON identities BEGIN
  DELETE FROM left_online WHERE identity = old.identity;
END;
`;

/** Identities, their tags, state and permissions; resource definitions; gateway settings. */
export const sql = `
CREATE TABLE identities (
  id           INTEGER PRIMARY KEY,
  identity     TEXT    NOT NULL UNIQUE,
  auth_type    TEXT    NOT NULL,
  credential   TEXT,
  auth_expire  INTEGER,
  locked       INTEGER NOT NULL DEFAULT 0,
  online       INTEGER NOT NULL DEFAULT 0,
  lastseen     INTEGER,
  lastip       TEXT,
  permission   TEXT    NOT NULL DEFAULT '{}',
  created_at   INTEGER NOT NULL
);
-- Token devices authenticate with the token alone, so a token may belong to one identity only.
CREATE UNIQUE INDEX identities_token ON identities (credential) WHERE auth_type = 'token' AND credential IS NOT NULL;
CREATE INDEX identities_lastseen ON identities (lastseen);
CREATE INDEX identities_lastip ON identities (lastip);
CREATE INDEX identities_status ON identities (locked, credential IS NULL, auth_expire);

CREATE TABLE identity_tags (
  identity_id INTEGER NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  name        TEXT    NOT NULL,
  value       TEXT    NOT NULL,
  PRIMARY KEY (identity_id, name, value)
) WITHOUT ROWID;
CREATE INDEX identity_tags_by_name ON identity_tags (name, value, identity_id);

-- Values are JSON texts so that strings, numbers and booleans keep their type.
CREATE TABLE identity_state (
  identity_id    INTEGER NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
  resource       TEXT    NOT NULL,
  set_value      TEXT,
  reported_value TEXT,
  timestamp      INTEGER NOT NULL,
  PRIMARY KEY (identity_id, resource)
) WITHOUT ROWID;
CREATE INDEX identity_state_by_resource ON identity_state (resource);

CREATE TABLE resources (
  alias      TEXT PRIMARY KEY,
  definition TEXT NOT NULL
);

CREATE TABLE settings (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  document TEXT    NOT NULL
);
`;

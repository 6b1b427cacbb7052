import type Database from 'better-sqlite3';

/**
 * Prepared statements keyed by their SQL. Filters build SQL from a small set of shapes, so the
 * cache stays small; the bound keeps a pathological mix of filters from growing it forever.
 */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly limit = 500,
  ) {}

  get(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= this.limit) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

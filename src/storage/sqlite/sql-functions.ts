import type Database from 'better-sqlite3';
import { RE2JS } from 're2js';

/** Runs user-supplied identity patterns with RE2 semantics, so no pattern can stall the process. */
export function registerRegexp(db: Database.Database): void {
  const compiled = new Map<string, RE2JS>();
  db.function('fg_regexp', { deterministic: true }, (pattern, value) => {
    let re = compiled.get(pattern as string);
    if (!re) {
      if (compiled.size >= 64) compiled.clear();
      re = RE2JS.compile(pattern as string);
      compiled.set(pattern as string, re);
    }
    return re.test(value as string) ? 1 : 0;
  });
}

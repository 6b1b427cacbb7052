import type { IdentityQuery, LifecycleStatus, OrderKey, TagOperator } from '../../core/ports.js';
import { NEVER } from './migrations/002-registry-indexes.js';

export interface SqlFragment {
  sql: string;
  params: Record<string, unknown>;
}

/**
 * The status rule of core/identity-status.ts, as SQL over the identities table `i`. Each status is
 * written with the very expressions of the `identities_status` index (locked, credential IS NULL,
 * ifnull(auth_expire, NEVER)), so that it is a single range of that index: an absent expiry never
 * lapses, and `ifnull(auth_expire, NEVER) < now` is "has an expiry and it has passed".
 */
const LAPSED = `ifnull(i.auth_expire, ${NEVER}) < @now`;
const CURRENT = `ifnull(i.auth_expire, ${NEVER}) >= @now`;
const STATUS_SQL: Record<LifecycleStatus, string> = {
  locked: 'i.locked = 1',
  reprovision: `i.locked = 0 AND (i.credential IS NULL) = 0 AND ${LAPSED}`,
  provisioned: `i.locked = 0 AND (i.credential IS NULL) = 0 AND ${CURRENT}`,
  expired: `i.locked = 0 AND (i.credential IS NULL) = 1 AND ${LAPSED}`,
  whitelisted: `i.locked = 0 AND (i.credential IS NULL) = 1 AND ${CURRENT}`,
};

const COMPARISON: Record<TagOperator, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', ne: '<>' };

/** One tag condition of a query, over `identity_tags t`; an identity matches when any of its tags does. */
export interface TagTerm {
  condition: string;
  params: Record<string, unknown>;
}

export function tagTerms(query: IdentityQuery): TagTerm[] {
  const terms: TagTerm[] = [];
  if (query.tagName !== undefined) {
    terms.push(
      query.tagValue === undefined
        ? { condition: 't.name = @tagName', params: { tagName: query.tagName } }
        : {
            condition: 't.name = @tagName AND t.value = @tagValue',
            params: { tagName: query.tagName, tagValue: query.tagValue },
          },
    );
  }
  query.tagCriteria?.forEach((criterion, k) => {
    terms.push({
      condition: `t.name = @cn${k} AND t.value ${COMPARISON[criterion.operator]} @cv${k}`,
      params: { [`cn${k}`]: criterion.name, [`cv${k}`]: criterion.value },
    });
  });
  return terms;
}

/**
 * WHERE clause (possibly empty) for a query; `fg_regexp` is registered by the store.
 *
 * Tag terms are correlated EXISTS probes of the (identity_id, name, value) primary key, which
 * suits a plan that walks the identities in some index order and stops at LIMIT. `drive` names
 * one tag term to write as `i.id IN (SELECT …)` instead, so that SQLite starts from the rows of
 * the tag index that match it (and sorts them), which is far cheaper when that tag is selective.
 */
export function whereSql(query: IdentityQuery, drive?: number): SqlFragment {
  const conditions: string[] = [];
  const params: Record<string, unknown> = {};
  if (query.statuses) {
    conditions.push(`(${query.statuses.map((s) => `(${STATUS_SQL[s]})`).join(' OR ')})`);
    params.now = query.now;
  }
  if (query.online !== undefined) {
    conditions.push('i.online = @online');
    params.online = query.online ? 1 : 0;
  }
  if (query.identityPattern !== undefined) {
    conditions.push('fg_regexp(@pattern, i.identity)');
    params.pattern = query.identityPattern;
  }
  if (query.ipaddress !== undefined) {
    conditions.push('i.lastip = @ipaddress');
    params.ipaddress = query.ipaddress;
  }
  if (query.before !== undefined) {
    conditions.push('i.lastseen < @before');
    params.before = query.before;
  }
  if (query.after !== undefined) {
    conditions.push('i.lastseen > @after');
    params.after = query.after;
  }
  tagTerms(query).forEach((term, k) => {
    conditions.push(
      k === drive
        ? `i.id IN (SELECT t.identity_id FROM identity_tags t WHERE ${term.condition})`
        : `EXISTS (SELECT 1 FROM identity_tags t WHERE t.identity_id = i.id AND ${term.condition})`,
    );
    Object.assign(params, term.params);
  });
  return { sql: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/** `SELECT count` of the tag rows matching a term, reading at most `cap` index entries. */
export function tagTermCountSql(term: TagTerm): string {
  return `SELECT count(*) AS n FROM (SELECT 1 FROM identity_tags t WHERE ${term.condition} LIMIT @cap)`;
}

/** Whether SQLite can return identities in this order by walking an index (no sort needed). */
export function orderFollowsIndex(order: OrderKey[]): boolean {
  const first = order[0];
  return first === undefined || first.field !== 'state';
}

/**
 * ORDER BY plus the joins it needs. Never-seen identities (lastseen NULL) sort as the oldest; the
 * row id breaks ties so that offsets page deterministically.
 */
export function orderSql(order: OrderKey[]): {
  joins: string;
  orderBy: string;
  params: Record<string, unknown>;
} {
  const joins: string[] = [];
  const terms: string[] = [];
  const params: Record<string, unknown> = {};
  order.forEach((key, k) => {
    const direction = key.descending ? 'DESC' : 'ASC';
    if (key.field === 'state') {
      joins.push(`LEFT JOIN identity_state s${k} ON s${k}.identity_id = i.id AND s${k}.resource = @sr${k}`);
      params[`sr${k}`] = key.resource;
      terms.push(`json_extract(s${k}.reported_value, '$') ${direction}`);
    } else {
      terms.push(`i.${key.field} ${direction}`);
    }
  });
  const last = order[order.length - 1];
  terms.push(`i.id ${last?.descending ? 'DESC' : 'ASC'}`);
  return { joins: joins.join(' '), orderBy: `ORDER BY ${terms.join(', ')}`, params };
}

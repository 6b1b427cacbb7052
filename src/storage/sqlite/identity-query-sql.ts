import type { IdentityQuery, LifecycleStatus, OrderKey, TagOperator } from '../../core/ports.js';

export interface SqlFragment {
  sql: string;
  params: Record<string, unknown>;
}

/** The status rule of core/identity-status.ts, as SQL over the identities table `i`. */
const STATUS_SQL: Record<LifecycleStatus, string> = {
  locked: 'i.locked = 1',
  reprovision: 'i.locked = 0 AND i.credential IS NOT NULL AND i.auth_expire < @now',
  provisioned:
    'i.locked = 0 AND i.credential IS NOT NULL AND (i.auth_expire IS NULL OR i.auth_expire >= @now)',
  expired: 'i.locked = 0 AND i.credential IS NULL AND i.auth_expire < @now',
  whitelisted: 'i.locked = 0 AND i.credential IS NULL AND (i.auth_expire IS NULL OR i.auth_expire >= @now)',
};

const COMPARISON: Record<TagOperator, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', ne: '<>' };

const hasTag = (condition: string) =>
  `EXISTS (SELECT 1 FROM identity_tags t WHERE t.identity_id = i.id AND ${condition})`;

/** WHERE clause (possibly empty) for a query; `fg_regexp` is registered by the store. */
export function whereSql(query: IdentityQuery): SqlFragment {
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
  if (query.tagName !== undefined) {
    conditions.push(
      hasTag(
        query.tagValue === undefined ? 't.name = @tagName' : 't.name = @tagName AND t.value = @tagValue',
      ),
    );
    params.tagName = query.tagName;
    if (query.tagValue !== undefined) params.tagValue = query.tagValue;
  }
  query.tagCriteria?.forEach((criterion, k) => {
    // A criterion holds when any value of the named tag satisfies it.
    conditions.push(hasTag(`t.name = @cn${k} AND t.value ${COMPARISON[criterion.operator]} @cv${k}`));
    params[`cn${k}`] = criterion.name;
    params[`cv${k}`] = criterion.value;
  });
  return { sql: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
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

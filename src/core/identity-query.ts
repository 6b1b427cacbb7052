import type { Static } from '@sinclair/typebox';
import { RE2JS } from 're2js';
import { invalidParameter } from './errors.js';
import type { IdentityQuery, LifecycleStatus, OrderKey, TagOperator } from './ports.js';
import type { IdentityFilterParams, ListIdentitiesParams } from './schemas/identity-query.js';

type FilterParams = Static<typeof IdentityFilterParams>;

const LIFECYCLE: readonly string[] = ['locked', 'reprovision', 'provisioned', 'whitelisted', 'expired'];
const OPERATORS: readonly string[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'ne'];

function parseStatuses(status: string): Pick<IdentityQuery, 'statuses' | 'online'> {
  const statuses: LifecycleStatus[] = [];
  const connectivity = new Set<boolean>();
  for (const raw of status.split(',')) {
    const name = raw.trim();
    if (LIFECYCLE.includes(name)) statuses.push(name as LifecycleStatus);
    else if (name === 'online' || name === 'offline') connectivity.add(name === 'online');
    else throw invalidParameter('status', `unknown status "${name}"`);
  }
  return {
    ...(statuses.length > 0 && { statuses }),
    // Asking for both online and offline is the same as asking for neither.
    ...(connectivity.size === 1 && { online: connectivity.has(true) }),
  };
}

function checkPattern(pattern: string): void {
  try {
    RE2JS.compile(pattern);
  } catch (error) {
    throw invalidParameter('identity', `is not a valid regular expression (${(error as Error).message})`);
  }
}

function parseTagCriteria(text: string): NonNullable<IdentityQuery['tagCriteria']> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidParameter('tags', 'is not a JSON array of {name, operator, value} criteria');
  }
  const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  if (list.length > 50) throw invalidParameter('tags', 'at most 50 criteria are allowed');
  return list.map((item, i) => {
    const { name, operator, value } = (item ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || name.length === 0)
      throw invalidParameter(`tags[${i}].name`, 'must be a non-empty string');
    if (typeof operator !== 'string' || !OPERATORS.includes(operator)) {
      throw invalidParameter(`tags[${i}].operator`, `must be one of ${OPERATORS.join(', ')}`);
    }
    if (typeof value !== 'string' && typeof value !== 'number')
      throw invalidParameter(`tags[${i}].value`, 'must be a string');
    return { name, operator: operator as TagOperator, value: String(value) };
  });
}

/** Turns the reference's identity filter parameters into a store query. */
export function parseIdentityQuery(params: FilterParams, now: number): IdentityQuery {
  const tagName = params.tag ?? params['tag.name'];
  if (params['tag.value'] !== undefined && tagName === undefined) {
    throw invalidParameter('tag.value', 'needs the tag name in "tag"');
  }
  if (params.tags !== undefined && tagName !== undefined) {
    throw invalidParameter('tags', 'cannot be combined with "tag" or "tag.value"');
  }
  if (params.identity !== undefined) checkPattern(params.identity);
  return {
    now,
    ...(params.status !== undefined && parseStatuses(params.status)),
    ...(params.identity !== undefined && { identityPattern: params.identity }),
    ...(params.ipaddress !== undefined && { ipaddress: params.ipaddress }),
    ...(params.before !== undefined && { before: params.before }),
    ...(params.after !== undefined && { after: params.after }),
    ...(tagName !== undefined && { tagName }),
    ...(params['tag.value'] !== undefined && { tagValue: params['tag.value'] }),
    ...(params.tags !== undefined && { tagCriteria: parseTagCriteria(params.tags) }),
  };
}

/** The reference lists by lastseen, newest first, unless told otherwise. */
export function parseOrder(order: Static<typeof ListIdentitiesParams>['order']): OrderKey[] {
  const keys = order === undefined ? ['lastseen.desc'] : Array.isArray(order) ? order : [order];
  return keys.map((key) => {
    const descending = key.endsWith('.desc');
    const base = key.replace(/\.(asc|desc)$/, '');
    if (base.startsWith('state.'))
      return { field: 'state', resource: base.slice('state.'.length), descending };
    return { field: base as OrderKey['field'], descending };
  });
}

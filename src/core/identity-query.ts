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
    if (LIFECYCLE.includes(name)) {
      if (!statuses.includes(name as LifecycleStatus)) statuses.push(name as LifecycleStatus);
    } else if (name === 'online' || name === 'offline') connectivity.add(name === 'online');
    else throw invalidParameter('status', `unknown status "${name}"`);
  }
  return {
    ...(statuses.length > 0 && { statuses }),
    // Asking for both online and offline is the same as asking for neither.
    ...(connectivity.size === 1 && { online: connectivity.has(true) }),
  };
}

/**
 * RE2 runs in time linear in the identity, but the factor grows with the compiled program, and a
 * filter runs against every identity: bounding the program bounds the cost of one scan.
 */
export const MAX_PATTERN_PROGRAM = 200;

function checkPattern(pattern: string): void {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    throw invalidParameter('identity', `is not a valid regular expression (${(error as Error).message})`);
  }
  if (compiled.programSize() > MAX_PATTERN_PROGRAM) {
    throw invalidParameter(
      'identity',
      `is too complex a regular expression (over ${MAX_PATTERN_PROGRAM} RE2 instructions)`,
    );
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseCriteriaList(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed)) return parsed as unknown[];
  // A lone criterion object is taken as a list of one.
  if (isObject(parsed)) return [parsed];
  throw invalidParameter('tags', 'is not a JSON array of {name, operator, value} criteria');
}

function parseTagCriteria(text: string): NonNullable<IdentityQuery['tagCriteria']> {
  const list = parseCriteriaList(text);
  if (list.length > 50) throw invalidParameter('tags', 'at most 50 criteria are allowed');
  return list.map((item, i) => {
    if (!isObject(item)) throw invalidParameter(`tags[${i}]`, 'must be an object {name, operator, value}');
    const { name, operator, value } = item;
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
  if (params.tag !== undefined && params['tag.name'] !== undefined && params.tag !== params['tag.name']) {
    throw invalidParameter('tag.name', 'names a different tag than "tag"');
  }
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

const ORDER_KEY = /^(identity|lastseen|lastip|state\.([^.$]+))(?:\.(asc|desc))?$/;

/**
 * The reference lists by lastseen, newest first, unless told otherwise; a key without a suffix
 * sorts ascending. `state.desc` orders by the resource "desc", ascending.
 */
export function parseOrder(order: Static<typeof ListIdentitiesParams>['order']): OrderKey[] {
  const keys = order === undefined ? ['lastseen.desc'] : Array.isArray(order) ? order : [order];
  return keys.map((key, i) => {
    const match = ORDER_KEY.exec(key);
    if (!match) {
      throw invalidParameter(
        Array.isArray(order) ? `order[${i}]` : 'order',
        'must be identity, lastseen, lastip or state.<resource>, with an optional .asc or .desc',
      );
    }
    const descending = match[3] === 'desc';
    if (match[2] !== undefined) return { field: 'state', resource: match[2], descending };
    return { field: match[1] as 'identity' | 'lastseen' | 'lastip', descending };
  });
}

import { expectCall, type ApiClient } from './http-client.js';
import { FIRMWARES, fwValue, SITES, siteValue, TYPES } from './registry-data.js';
import { runLoad, summarize, type Row } from './stats.js';

interface Device {
  identity: string;
  lastseen: number | null;
  tags: { name: string; value: string }[];
}

type Check = (body: unknown, i: number) => void;

const hasTag = (d: Device, name: string, test: (value: string) => boolean) =>
  d.tags.some((t) => t.name === name && test(t.value));

/** Every device matches, they come newest first, and (when `full`) the page holds 50. */
function checkList(predicate: (device: Device, i: number) => boolean, full = true): Check {
  return (body, i) => {
    const { devices } = body as { devices: Device[] };
    if (full && devices.length !== 50) throw new Error(`expected 50 devices, got ${devices.length}`);
    devices.forEach((d, k) => {
      if (!predicate(d, i)) throw new Error(`device ${d.identity} does not match the filter`);
      const before = devices[k - 1];
      if (before && (before.lastseen ?? 0) < (d.lastseen ?? 0))
        throw new Error('not ordered by lastseen desc');
    });
  };
}

export interface Expected {
  provisioned: number;
  whitelistedOrExpired: number;
}

export interface QueryOptions {
  requests: number;
  warmup: number;
  gatewayPid: number | undefined;
  log: (line: string) => void;
}

/**
 * The read cases: each runs `warmup` checked requests, then `requests` sequential timed ones,
 * varying the filter value from one request to the next.
 */
export async function runQueries(
  client: ApiClient,
  expected: Expected,
  options: QueryOptions,
): Promise<Row[]> {
  const rows: Row[] = [];
  async function queryCase(
    name: string,
    operation: string,
    params: (i: number) => Record<string, unknown>,
    check: Check,
  ): Promise<void> {
    for (let i = 0; i < options.warmup; i++) check(await expectCall(client, operation, params(i)), i);
    const result = await runLoad(
      { inFlight: 1, count: options.requests, gatewayPid: options.gatewayPid },
      async (i) => {
        await expectCall(client, operation, params(i));
      },
    );
    const summary = summarize(result);
    rows.push({ name, summary, target: 'median ≤ 20 ms', met: summary.median <= 20 });
    options.log(`${name}: median ${summary.median.toFixed(2)} ms, p95 ${summary.p95.toFixed(2)} ms`);
  }

  const list = (filter: Record<string, unknown>) => ({ ...filter, order: 'lastseen.desc', limit: 50 });
  const site = (i: number) => siteValue((i * 37) % SITES);
  const type = (i: number) => TYPES[i % TYPES.length]!;
  const low = (i: number) => i % (FIRMWARES - 4);

  await queryCase(
    'listIdentities, tags site eq (1 % match), lastseen.desc, limit 50',
    'listIdentities',
    (i) => list({ tags: JSON.stringify([{ name: 'site', operator: 'eq', value: site(i) }]) }),
    checkList((d, i) => hasTag(d, 'site', (v) => v === site(i))),
  );
  await queryCase(
    'listIdentities, tags fw gte + lte (25 % match), lastseen.desc, limit 50',
    'listIdentities',
    (i) =>
      list({
        tags: JSON.stringify([
          { name: 'fw', operator: 'gte', value: fwValue(low(i)) },
          { name: 'fw', operator: 'lte', value: fwValue(low(i) + 4) },
        ]),
      }),
    checkList((d, i) => hasTag(d, 'fw', (v) => v >= fwValue(low(i)) && v <= fwValue(low(i) + 4))),
  );
  await queryCase(
    'listIdentities, tag + tag.value type (20 % match), lastseen.desc, limit 50',
    'listIdentities',
    (i) => list({ tag: 'type', 'tag.value': type(i) }),
    checkList((d, i) => hasTag(d, 'type', (v) => v === type(i))),
  );
  await queryCase(
    'listIdentities, tags site eq + type eq (0.2 % match), lastseen.desc, limit 50',
    'listIdentities',
    (i) =>
      list({
        tags: JSON.stringify([
          { name: 'site', operator: 'eq', value: site(i) },
          { name: 'type', operator: 'eq', value: type(i) },
        ]),
      }),
    // About 200 identities match each pair, so pages are full, but not by construction.
    checkList(
      (d, i) => hasTag(d, 'site', (v) => v === site(i)) && hasTag(d, 'type', (v) => v === type(i)),
      false,
    ),
  );

  const countIs = (want: number) => (body: unknown) => {
    const { count } = body as { count: number };
    if (count !== want) throw new Error(`count ${count}, expected ${want}`);
  };
  await queryCase(
    'countIdentities, status provisioned',
    'countIdentities',
    () => ({ status: 'provisioned' }),
    countIs(expected.provisioned),
  );
  await queryCase(
    'countIdentities, status whitelisted,expired',
    'countIdentities',
    () => ({ status: 'whitelisted,expired' }),
    countIs(expected.whitelistedOrExpired),
  );
  return rows;
}

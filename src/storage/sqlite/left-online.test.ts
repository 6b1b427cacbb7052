import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from '../../bus/in-process-bus.js';
import { newIdentity } from '../contract-fixtures.js';
import { createSqliteStore } from './sqlite-store.js';
import { systemClock } from '../../core/clock.js';
import type { GatewayEvent } from '../../core/events.js';
import { endConnectionsOfPreviousRun } from '../../core/previous-run.js';

/** A database whose identity `a` (lastip 10.0.0.1) was left online by a run that died. */
async function leftByACrash(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'fleetgate-previous-run-')), 'db');
  const store = createSqliteStore(path);
  await store.identities.insert(newIdentity('a'));
  await store.identities.markSeen('a', { at: 1, ip: '10.0.0.1', online: true });
  await store.close();
  return path;
}

function run(path: string, keeper: () => Promise<void> | undefined) {
  const store = createSqliteStore(path);
  const bus = new InProcessBus((error) => {
    throw error;
  });
  const events: GatewayEvent[] = [];
  const metrics: string[] = [];
  bus.subscribe((event) => events.push(event), keeper);
  const ended = endConnectionsOfPreviousRun({
    identities: store.identities,
    events: bus,
    activity: { record: (metric, identity) => metrics.push(`${metric}:${identity}`), recordPublish() {} },
    clock: systemClock,
  });
  return { store, events, metrics, ended };
}

describe('ending the connections of a run that died', () => {
  it('raises a disconnect and a disconnection for each device it left online, once', async () => {
    const path = await leftByACrash();
    const first = run(path, () => undefined);
    expect(await first.ended).toBe(1);
    expect(first.events).toEqual([
      expect.objectContaining({
        type: 'disconnect',
        identity: 'a',
        ip: '10.0.0.1',
        protocol: 'restart',
        connection_id: null,
      }),
    ]);
    expect(first.metrics).toEqual(['disconnection:a']);
    await first.store.close();
    const second = run(path, () => undefined);
    expect(await second.ended).toBe(0);
    await second.store.close();
  });

  it('raises them again at the next start when their events could not be stored', async () => {
    const path = await leftByACrash();
    const failing = run(path, () => Promise.reject(new Error('disk full')));
    await expect(failing.ended).rejects.toThrow('disk full');
    await failing.store.close();
    const next = run(path, () => undefined);
    expect(await next.ended).toBe(1);
    expect(next.events.map((e) => `${e.type}:${e.identity}`)).toEqual(['disconnect:a']);
    await next.store.close();
  });
});

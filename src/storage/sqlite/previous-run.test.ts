import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from '../../bus/in-process-bus.js';
import { newIdentity } from '../contract-fixtures.js';
import { createSqliteStore } from './sqlite-store.js';
import { systemClock } from '../../core/clock.js';
import type { GatewayEvent } from '../../core/events.js';
import { finishPreviousRun } from '../../core/previous-run.js';

/**
 * A database left by a run that died: its identity `a` (lastip 10.0.0.1) online, and, with
 * `changes`, `b` provisioned and `c` removed, committed before their events reached any consumer.
 */
async function leftByACrash(changes = false): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'fleetgate-previous-run-')), 'db');
  const store = createSqliteStore(path);
  await store.identities.insert(newIdentity('a'));
  await store.identities.markSeen('a', { at: 1, ip: '10.0.0.1', online: true });
  if (changes) {
    const raised = (type: 'provisioned' | 'deleted', identity: string): GatewayEvent => ({
      type,
      identity,
      ip: '10.0.0.9',
      protocol: 'http',
      timestamp: 7,
      connection_id: null,
    });
    await store.identities.insert(newIdentity('b'));
    await store.identities.insert(newIdentity('c'));
    await store.devices.provision(
      'b',
      null,
      { authType: 'token', credential: 'sha256:b' },
      raised('provisioned', 'b'),
    );
    await store.identities.remove(['c'], [raised('deleted', 'c')]);
  }
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
  const ended = finishPreviousRun({
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
    expect(await first.ended).toEqual({ raised: 0, disconnected: 1 });
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
    expect(await second.ended).toEqual({ raised: 0, disconnected: 0 });
    await second.store.close();
  });

  it('raises them again at the next start when their events could not be stored', async () => {
    const path = await leftByACrash();
    const failing = run(path, () => Promise.reject(new Error('disk full')));
    await expect(failing.ended).rejects.toThrow('disk full');
    await failing.store.close();
    const next = run(path, () => undefined);
    expect(await next.ended).toEqual({ raised: 0, disconnected: 1 });
    expect(next.events.map((e) => `${e.type}:${e.identity}`)).toEqual(['disconnect:a']);
    await next.store.close();
  });

  it('raises the events of changes it committed and did not hand over, as stored, before the disconnects', async () => {
    const path = await leftByACrash(true);
    const failing = run(path, () => Promise.reject(new Error('disk full')));
    await expect(failing.ended).rejects.toThrow('disk full');
    await failing.store.close();
    const next = run(path, () => undefined);
    expect(await next.ended).toEqual({ raised: 2, disconnected: 1 });
    expect(next.events.map((e) => `${e.type}:${e.identity}`)).toEqual([
      'provisioned:b',
      'deleted:c',
      'disconnect:a',
    ]);
    expect(next.events[0]).toEqual({
      type: 'provisioned',
      identity: 'b',
      ip: '10.0.0.9',
      protocol: 'http',
      timestamp: 7,
      connection_id: null,
    });
    await next.store.close();
    const after = run(path, () => undefined);
    expect(await after.ended).toEqual({ raised: 0, disconnected: 0 });
    await after.store.close();
  });
});

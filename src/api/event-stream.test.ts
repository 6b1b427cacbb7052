import { describe, expect, it, vi } from 'vitest';
import { createEventIds } from '../core/event-source.js';
import { event, ManualSource, MemoryLog } from '../events/test-events.js';
import { EventStreamHub, type EventStreamOptions, type StreamClient } from './event-stream.js';

/** A client that reads nothing until told: its backlog is what it was sent. */
class FakeClient implements StreamClient {
  text = '';
  backlogBytes = 0;
  ended = false;
  destroyed = false;
  constructor(
    readonly types: ReadonlySet<string> | null = null,
    readonly identities: ReadonlySet<string> | null = null,
    private readonly reads = true,
  ) {}
  backlog() {
    return this.backlogBytes;
  }
  write(chunk: string) {
    this.text += chunk;
    if (!this.reads) this.backlogBytes += Buffer.byteLength(chunk);
  }
  end() {
    this.ended = true;
  }
  destroy() {
    this.destroyed = true;
  }
  /** `type:identity` of each event received, in order. */
  events(): string[] {
    return [...this.text.matchAll(/^data: (.*)$/gm)].map((m) => {
      const e = JSON.parse(m[1]!) as { type: string; identity: string };
      return `${e.type}:${e.identity}`;
    });
  }
}

function hub(options: Partial<EventStreamOptions> = {}) {
  const source = new ManualSource();
  const log = new MemoryLog();
  return {
    source,
    log,
    hub: new EventStreamHub(
      source,
      createEventIds(() => 'id-1'),
      log,
      options,
    ),
  };
}

/** A hub whose events get the ids e1, e2, … in the order they are sent. */
function numberedHub(options: Partial<EventStreamOptions> = {}) {
  let n = 0;
  const source = new ManualSource();
  const streams = new EventStreamHub(
    source,
    createEventIds(() => `e${++n}`),
    new MemoryLog(),
    options,
  );
  return { source, streams };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('the event stream hub', () => {
  it('sends each event as id, event and data lines, to the clients whose filters it passes', async () => {
    const { source, hub: streams } = hub();
    const all = new FakeClient();
    const deletions = new FakeClient(new Set(['deleted']));
    const ofB = new FakeClient(null, new Set(['b']));
    for (const client of [all, deletions, ofB]) streams.add(client);
    source.publish(event('a', 1));
    source.publish(event('b', 2, 'deleted'));
    await nextTurn();
    expect(all.text).toBe(
      `id: id-1\nevent: data_in\ndata: ${JSON.stringify(event('a', 1))}\n\n` +
        `id: id-1\nevent: deleted\ndata: ${JSON.stringify(event('b', 2, 'deleted'))}\n\n`,
    );
    expect(deletions.events()).toEqual(['deleted:b']);
    expect(ofB.events()).toEqual(['deleted:b']);
  });

  it('takes events only while a client is connected, and for a while after the last one left', async () => {
    const { source, hub: streams } = hub({ lingerMs: 20 });
    expect(source.subscribers).toBe(0);
    const remove = streams.add(new FakeClient());
    expect(source.subscribers).toBe(1);
    remove();
    expect(source.subscribers).toBe(1);
    await vi.waitFor(() => expect(source.subscribers).toBe(0));
  });

  it('replays to a client that reconnects with Last-Event-ID the events it missed, through its filters', async () => {
    const { source, streams } = numberedHub();
    const first = new FakeClient(null, new Set(['a']));
    const remove = streams.add(first);
    source.publish(event('a', 1)); // e1
    await nextTurn();
    remove();
    source.publish(event('a', 2)); // e2: missed
    source.publish(event('b', 3)); // e3: not for this client
    source.publish(event('a', 4)); // e4: missed
    await nextTurn();
    const again = new FakeClient(null, new Set(['a']));
    streams.add(again, 'e1');
    source.publish(event('a', 5)); // e5: live
    await nextTurn();
    expect([...again.text.matchAll(/^id: (.*)$/gm)].map((m) => m[1])).toEqual(['e2', 'e4', 'e5']);
    streams.closeAll();
  });

  it('tells a client whose Last-Event-ID is no longer kept that it missed events', async () => {
    const { source, streams } = numberedHub({ replayEvents: 2 });
    streams.add(new FakeClient());
    for (let k = 0; k < 3; k++) source.publish(event('a', k));
    await nextTurn();
    const late = new FakeClient();
    streams.add(late, 'e1');
    expect(late.text).toBe('event: missed\ndata: {"after":"e1"}\n\n');
    const recent = new FakeClient();
    streams.add(recent, 'e2');
    expect(recent.events()).toEqual(['data_in:a']);
    streams.closeAll();
  });

  it('disconnects a client that does not read once it is too far behind, and serves the others', async () => {
    const { source, log, hub: streams } = hub({ maxBacklogBytes: 2_000 });
    const stuck = new FakeClient(null, null, false);
    const reading = new FakeClient();
    streams.add(stuck);
    streams.add(reading);
    for (let n = 0; n < 50; n++) {
      source.publish(event('a', n));
      await nextTurn();
    }
    expect(stuck.destroyed).toBe(true);
    expect(stuck.backlogBytes).toBeLessThanOrEqual(2_000);
    expect(reading.events()).toHaveLength(50);
    expect(streams.size).toBe(1);
    expect(log.entries).toContainEqual(expect.objectContaining({ level: 'warn' }));
  });

  it('keeps a client that reads everything, even when one turn brings more events than the limit', async () => {
    const { source, hub: streams } = hub({ maxBacklogBytes: 500 });
    const reading = new FakeClient();
    streams.add(reading);
    for (let n = 0; n < 20; n++) source.publish(event('a', n));
    await nextTurn();
    expect(reading.destroyed).toBe(false);
    expect(reading.events()).toHaveLength(20);
  });

  it('sends a heartbeat comment to idle clients', async () => {
    const { hub: streams } = hub({ heartbeatMs: 10 });
    const client = new FakeClient();
    const remove = streams.add(client);
    await vi.waitFor(() => expect(client.text).toContain(': heartbeat\n\n'));
    remove();
  });

  it('ends every stream at close and refuses new ones', () => {
    const { source, hub: streams } = hub();
    const client = new FakeClient();
    streams.add(client);
    streams.closeAll();
    expect(client.ended).toBe(true);
    expect(source.subscribers).toBe(0);
    const late = new FakeClient();
    streams.add(late);
    expect(late.ended).toBe(true);
    expect(streams.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import type { CommitWrite } from './ingest-committer.js';
import { BatchBuilder, decodeBatch, encodeBatch } from './ingest-wire.js';

const write = (
  identity: string,
  value: CommitWrite['samples'][number]['value'],
  at: number,
): CommitWrite => ({
  identity,
  samples: [{ signal: 'temp', resource: 'temp', retention: 12, timestamp: at, value }],
  state: [{ resource: 'temp', reported: value, set: value, timestamp: at }],
  seen: { at },
});

describe('the ingest wire format', () => {
  it('gives back every write of a batch as it was: numbers, strings, booleans, states and signals', () => {
    const writes: CommitWrite[] = [
      write('a', 21.5, 1_764_115_200_000_001),
      write('b', 'on', 1_764_115_200_000_002),
      write('a', true, 1_764_115_200_000_003),
      write('é/ünïcode', -0.25, 2 ** 53 - 1),
      {
        identity: 'gateway-1',
        samples: [],
        state: [{ resource: 'config_io', timestamp: 5 }],
        signals: [
          { signal: 'ch1', resource: 'data_in', metadata: '{"display_name":"Ch 1"}' },
          { signal: 'ch2', resource: 'data_in', metadata: null },
        ],
        seen: { at: 5 },
      },
    ];
    expect(decodeBatch(encodeBatch(writes))).toEqual(writes);
  });

  it('sends each name once per batch, and starts afresh with the next batch', () => {
    const first = encodeBatch([write('a', 1, 1), write('a', 2, 2), write('b', 3, 3)]);
    expect(first.strings).toEqual(['a', 'temp', 'b']);
    const second = encodeBatch([write('c', 'x', 4)]);
    // Values are not looked up: a sample's value and its state's are sent apart.
    expect(second.strings).toEqual(['c', 'temp', 'x', 'x', 'x']);
    expect(decodeBatch(first).map((w) => w.samples[0]!.value)).toEqual([1, 2, 3]);
    expect(decodeBatch(second)).toEqual([write('c', 'x', 4)]);
  });

  it('builds a batch write by write, growing past its first buffer', () => {
    const builder = new BatchBuilder(8);
    const writes = Array.from({ length: 300 }, (_, i) => write(`dev-${i % 7}`, i, 1_764_115_200_000_000 + i));
    for (const w of writes) builder.add(w);
    expect([builder.count, builder.first]).toEqual([300, writes[0]]);
    expect(decodeBatch(builder.finish())).toEqual(writes);
  });

  it('marks a batch broken by a write that failed half-way, and adds nothing more to it', () => {
    const builder = new BatchBuilder();
    builder.add(write('a', 1, 1));
    const malformed = { ...write('gone', 1, 1), state: [null] } as unknown as CommitWrite;
    expect(() => builder.add(malformed)).toThrow();
    builder.add(write('b', 2, 2));
    expect([builder.broken, builder.count]).toEqual([true, 1]);
  });

  it('carries batches larger than its first buffer', () => {
    const writes = Array.from({ length: 5000 }, (_, i) =>
      write(`dev-${i % 50}`, i, 1_764_115_200_000_000 + i),
    );
    expect(decodeBatch(encodeBatch(writes))).toEqual(writes);
  });
});

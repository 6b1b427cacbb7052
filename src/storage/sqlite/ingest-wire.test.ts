import { describe, expect, it } from 'vitest';
import type { CommitWrite } from './ingest-committer.js';
import { createBatchEncoder, decodeBatch } from './ingest-wire.js';

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
    expect(decodeBatch(createBatchEncoder().encode(writes))).toEqual(writes);
  });

  it('sends each name once per batch, and starts afresh with the next batch', () => {
    const encoder = createBatchEncoder();
    const first = encoder.encode([write('a', 1, 1), write('a', 2, 2), write('b', 3, 3)]);
    expect(first.strings).toEqual(['a', 'temp', 'b']);
    const second = encoder.encode([write('c', 'x', 4)]);
    // Values are not looked up: a sample's value and its state's are sent apart.
    expect(second.strings).toEqual(['c', 'temp', 'x', 'x', 'x']);
    expect(decodeBatch(first).map((w) => w.samples[0]!.value)).toEqual([1, 2, 3]);
    expect(decodeBatch(second)).toEqual([write('c', 'x', 4)]);
  });

  it('gives the next batch its own names after one that failed half-way', () => {
    const encoder = createBatchEncoder();
    const malformed = { ...write('gone', 1, 1), seen: undefined } as unknown as CommitWrite;
    expect(() => encoder.encode([write('a', 1, 1), malformed])).toThrow();
    const next = [write('victim', 2, 2), write('a', 3, 3)];
    expect(decodeBatch(encoder.encode(next))).toEqual(next);
  });

  it('carries batches larger than its first buffer', () => {
    const writes = Array.from({ length: 5000 }, (_, i) =>
      write(`dev-${i % 50}`, i, 1_764_115_200_000_000 + i),
    );
    expect(decodeBatch(createBatchEncoder().encode(writes))).toEqual(writes);
  });
});

import { describe, expect, it } from 'vitest';
import { duration, Progress } from './progress.js';

function output(isTTY: boolean) {
  const written: string[] = [];
  return { written, out: { isTTY, columns: 60, write: (text: string) => void written.push(text) } };
}

describe('progress', () => {
  it('redraws one bar on a terminal, at most every 100 ms, under lines that stay', () => {
    const { written, out } = output(true);
    let now = 0;
    const progress = new Progress(out, 'restore', () => now);
    progress.update(0.25, '1/4 files');
    now = 50;
    progress.update(0.3, 'skipped: too soon');
    now = 150;
    progress.log('done    a.ndjson.gz');
    progress.update(0.5, '2/4 files');
    progress.end();
    expect(written).toEqual([
      '\r\x1b[Krestore [######------------------]  25% 1/4 files',
      '\r\x1b[K',
      'done    a.ndjson.gz\n',
      '\r\x1b[Krestore [############------------]  50% 2/4 files',
      '\r\x1b[K',
    ]);
  });

  it('writes plain lines at every tenth when the output is not a terminal', () => {
    const { written, out } = output(false);
    const progress = new Progress(out, 'archive 2024-01-05');
    for (const share of [0, 0.05, 0.12, 0.19, 0.5, 1]) progress.update(share, `${share * 100} of 100`);
    progress.end();
    expect(written).toEqual([
      'archive 2024-01-05: 0% 0 of 100\n',
      'archive 2024-01-05: 12% 12 of 100\n',
      'archive 2024-01-05: 50% 50 of 100\n',
      'archive 2024-01-05: 100% 100 of 100\n',
    ]);
  });

  it('says how long in seconds, then minutes', () => {
    expect([duration(1234), duration(59_949), duration(125_000)]).toEqual(['1.2 s', '59.9 s', '2 min 5 s']);
  });
});

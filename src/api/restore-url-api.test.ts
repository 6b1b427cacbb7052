import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { DEC_1, seedArchive, values, type ArchiveFixture } from './test-archive.js';
import { assertError } from './test-api.js';

let fixture: ArchiveFixture;
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
  await fixture.api.close();
});

/** Serves `routes` (path -> bytes, or 'hang' to never answer); anything else is 404. */
async function serve(routes: Map<string, Buffer | 'hang'>): Promise<string> {
  server = createServer((request, response) => {
    const route = routes.get(request.url ?? '');
    if (route === 'hang') return;
    if (!route) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/gzip' }).end(route);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Archives August (class 3) of the fixture and answers the paths of its two files. */
async function archived() {
  fixture = await seedArchive({ restoreUrlTimeoutMs: 300 });
  fixture.api.clock.now = DEC_1;
  await fixture.retention();
  const dir = fixture.api.archiveDir;
  return {
    day10: join(dir, '2023/08/2023-08-10.r3.ndjson.gz'),
    day11: join(dir, '2023/08/2023-08-11.r3.ndjson.gz'),
  };
}

async function run(urls: string[]) {
  const { api } = fixture;
  const { task_id } = await api.ok('restoreUrl', { urls });
  await api.restoreRunner.idle();
  const files = await api.ok('getRestoreTaskStatus', { task_id });
  return { task_id, files: files.map((f) => [f.status, f.samples, f.message]) };
}

describe('restoreUrl', () => {
  it('restores daily files over HTTP, with their checksum when the server has one, and from file:// URLs', async () => {
    const { day10, day11 } = await archived();
    const base = await serve(
      new Map([
        ['/a/2023-08-10.r3.ndjson.gz', readFileSync(day10)],
        ['/a/2023-08-10.r3.ndjson.gz.sha256', readFileSync(`${day10}.sha256`)],
        // No checksum here: the file is then read row by row before it is restored.
        ['/b/2023-08-11.r3.ndjson.gz', readFileSync(day11)],
      ]),
    );
    const { files } = await run([`${base}/a/2023-08-10.r3.ndjson.gz`, `${base}/b/2023-08-11.r3.ndjson.gz`]);
    expect(files).toEqual([
      ['done', 10, undefined],
      ['done', 2, undefined],
    ]);
    expect(await values(fixture.api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
    const local = await run([pathToFileURL(day11).href]);
    expect(local.files).toEqual([['done', 2, undefined]]);
    assertError(await fixture.api.call('retryRestoreTask', { task_id: local.task_id }), 400, 'task_id');
  });

  it('fails a silent server after the timeout, and missing or corrupt files, restoring nothing of them; a retry restores them once fixed', async () => {
    const { day10, day11 } = await archived();
    const good = readFileSync(day10);
    const routes = new Map<string, Buffer | 'hang'>([
      ['/silent.ndjson.gz', 'hang'],
      // Cut short, as an interrupted copy would be.
      ['/broken.ndjson.gz', good.subarray(0, good.length - 20)],
    ]);
    const base = await serve(routes);
    // A copy whose checksum no longer matches: one byte of it changed.
    const corrupt = join(mkdtempSync(join(tmpdir(), 'fleetgate-corrupt-')), 'corrupt.ndjson.gz');
    const bytes = Buffer.from(readFileSync(day11));
    bytes[bytes.length - 12]! ^= 0xff;
    writeFileSync(corrupt, bytes);
    copyFileSync(`${day11}.sha256`, `${corrupt}.sha256`);
    const urls = [
      `${base}/silent.ndjson.gz`,
      `${base}/missing.ndjson.gz`,
      `${base}/broken.ndjson.gz`,
      pathToFileURL(corrupt).href,
    ];
    const { task_id, files } = await run(urls);
    expect(files).toEqual([
      ['failed', 0, `${base}/silent.ndjson.gz did not answer within 0.3 s`],
      ['failed', 0, `${base}/missing.ndjson.gz answered HTTP 404`],
      ['failed', 0, expect.stringMatching(/^not a valid gzip file \(unexpected end of file\)/) as unknown],
      ['failed', 0, expect.stringMatching(/^checksum mismatch: the file is corrupt/) as unknown],
    ]);
    expect(await fixture.api.ok('getRestoreStatus', {})).toMatchObject([
      { task_id, status: 'failed', total: 4, done: 0, failed: 4 },
    ]);
    expect(await values(fixture.api, 'd1', 'temp')).toEqual([4]);

    routes.set('/silent.ndjson.gz', good);
    routes.set('/missing.ndjson.gz', good);
    routes.set('/broken.ndjson.gz', good);
    copyFileSync(day11, corrupt);
    expect(await fixture.api.ok('retryRestoreTask', { task_id })).toEqual({
      message: `retrying 4 failed files of restore task ${task_id}`,
    });
    await fixture.api.restoreRunner.idle();
    const retried = await fixture.api.ok('getRestoreTaskStatus', { task_id });
    expect(retried.map((f) => [f.status, f.samples])).toEqual([
      ['done', 10],
      ['done', 10],
      ['done', 10],
      ['done', 2],
    ]);
    expect(await fixture.api.ok('getRestoreStatus', {})).toMatchObject([
      { task_id, status: 'done', done: 4, failed: 0 },
    ]);
    expect(await values(fixture.api, 'd1', 'temp')).toEqual([1.5, 2, 2.5, 3, 4]);
  });

  it('reads a file without checksum whole before restoring any of it: a bad row restores nothing', async () => {
    await archived();
    const lines = [
      JSON.stringify({
        format: 'fleetgate-archive',
        version: 1,
        day: '2023-08-12',
        retention: 3,
        columns: ['identity', 'signal', 'resource', 'timestamp', 'received_at', 'value'],
        rows: 2,
      }),
      JSON.stringify(['d1', 'temp', 'temp', Date.UTC(2023, 7, 12) * 1000, Date.UTC(2023, 7, 12) * 1000, 50]),
      '["d1", "temp", "temp", "yesterday", 0, 51]',
    ];
    const path = join(mkdtempSync(join(tmpdir(), 'fleetgate-bad-row-')), '2023-08-12.r3.ndjson.gz');
    writeFileSync(path, gzipSync(`${lines.join('\n')}\n`));
    const { files } = await run([pathToFileURL(path).href]);
    expect(files).toEqual([
      ['failed', 0, 'line 3 has a column of the wrong type: ["d1", "temp", "temp", "yesterday", 0, 51]'],
    ]);
    expect(await values(fixture.api, 'd1', 'temp')).toEqual([4]);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertError, startTestApi, type TestApi } from './test-api.js';

let api: TestApi;
beforeEach(async () => {
  api = await startTestApi();
  // One archived day, so that a well-formed range can find a file.
  await api.ok('addResource', { alias: 'temp', format: 'number' });
  await api.ok('addIdentity', { identity: 'd1' });
  await api.ok('publishData', {
    identity: 'd1',
    payload: [{ timestamp: Date.UTC(2023, 7, 10) / 1000, values: { temp: 1 } }],
  });
  await api.archiver.archiveDay('2023-08-10');
});
afterEach(async () => {
  await api.close();
});

const range = { start_date: '2023-08-01', end_date: '2023-08-31' };

describe('restore operations refuse bad input with 400 naming the parameter, and create no task', () => {
  it('refuses dates that are not YYYY-MM-DD calendar dates, or run backwards', async () => {
    for (const [params, parameter] of [
      [{ ...range, start_date: '2023-8-1' }, 'start_date'],
      [{ ...range, start_date: 'yesterday' }, 'start_date'],
      [{ ...range, end_date: '2023-02-30' }, 'end_date'],
      [{ ...range, end_date: '2023-13-01' }, 'end_date'],
      [{ ...range, start_date: 20230801 }, 'start_date'],
      [{ end_date: '2023-08-31' }, 'start_date'],
      [{ ...range, end_date: '2023-07-31' }, 'end_date'],
      [{ start_date: '2000-01-01', end_date: '2023-08-31' }, 'end_date'],
    ] as const)
      assertError(await api.call('restoreTime', params), 400, parameter);
    expect(await api.ok('getRestoreStatus', {})).toEqual([]);
  });

  it('refuses a range without archives, retentions outside the enum and unknown parameters', async () => {
    const message = assertError(
      await api.call('restoreTime', { start_date: '2023-09-01', end_date: '2023-09-30' }),
      400,
      'start_date',
    );
    expect(message).toContain('no archive file from 2023-09-01 to 2023-09-30');
    for (const retention of ['1', 3, '', '12 ']) {
      assertError(await api.call('restoreTime', { ...range, retention }), 400, 'retention');
      assertError(
        await api.call('restoreUrl', { urls: ['file:///x.ndjson.gz'], retention }),
        400,
        'retention',
      );
    }
    assertError(await api.call('restoreTime', { ...range, identities: [] }), 400, 'identities');
    assertError(await api.call('restoreTime', { ...range, signals: ['a.b'] }), 400, 'signals');
    assertError(await api.call('restoreTime', { ...range, devices: ['d1'] }), 400, 'devices');
    expect(await api.ok('getRestoreStatus', {})).toEqual([]);
  });

  it('refuses URLs of other schemes, malformed ones, and an empty or repeated list', async () => {
    for (const [urls, parameter] of [
      [['ftp://example.com/2023-08-10.r12.ndjson.gz'], 'urls[0]'],
      [['file:///ok.ndjson.gz', 'javascript:alert(1)'], 'urls[1]'],
      [['not a url'], 'urls[0]'],
      [['file://elsewhere/x.ndjson.gz'], 'urls[0]'],
      [[], 'urls'],
      [['file:///a', 'file:///a'], 'urls'],
      ['file:///a', 'urls'],
    ] as const)
      assertError(await api.call('restoreUrl', { urls }), 400, parameter);
    assertError(await api.call('restoreUrl', {}), 400, 'urls');
    expect(await api.ok('getRestoreStatus', {})).toEqual([]);
  });

  it('answers 400 for unknown task ids, and for a retry without failed files', async () => {
    for (const operation of ['getRestoreTaskStatus', 'retryRestoreTask']) {
      assertError(await api.call(operation, { task_id: 'no-such-task' }), 400, 'task_id');
      assertError(await api.call(operation, {}), 400, 'task_id');
      assertError(await api.call(operation, { task_id: '' }), 400, 'task_id');
    }
    expect(await api.ok('getRestoreStatus', {})).toEqual([]);
    const { task_id } = await api.ok('restoreTime', range);
    await api.restoreRunner.idle();
    const message = assertError(await api.call('retryRestoreTask', { task_id }), 400, 'task_id');
    expect(message).toContain('has no failed file to retry');
    expect((await api.ok('getRestoreStatus', {})).map((t) => [t.task_id, t.status])).toEqual([
      [task_id, 'done'],
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { ResourceDefinition } from './schemas/resource.js';
import { defaultSettings } from './schemas/settings.js';
import { SignalParser, type ParserInput, type ParserSkip } from './signal-parser.js';
import type { SignalRecord } from './time-series-ports.js';

const T = 1_780_000_000_000_000;
const text = { format: 'string', sync: true, settable: true, retention: '12' } as const;
const DEFINITIONS: Record<string, ResourceDefinition> = {
  config_io: text,
  data_in: { ...text, retention: '36' },
  temp: { ...text, format: 'number' },
};

function setup(stored: Partial<SignalRecord>[] = [], enabled = true) {
  const reports: { identity: string; reason: ParserSkip; count: number; detail: string }[] = [];
  let reads = 0;
  const parser = new SignalParser({
    settings: { get: async () => ({ ...defaultSettings(), enable_signal_parser: enabled }) },
    series: {
      async signals(identity) {
        reads++;
        return stored
          .filter((s) => (s.identity ?? 'dev') === identity)
          .map((s) => ({
            identity,
            signal: s.signal!,
            resource: s.resource ?? 'data_in',
            metadata: null,
            createdAt: T,
            lastValue: null,
            lastUpdate: null,
            lastInsert: null,
          }));
      },
    },
    report: {
      skipped: (identity, reason, count, detail) => reports.push({ identity, reason, count, detail }),
    },
  });
  const parse = (...inputs: [ParserInput['resource'], unknown, number?][]) =>
    parser.parse(
      'dev',
      inputs.map(([resource, value, timestamp]) => ({
        resource,
        value: typeof value === 'string' ? value : JSON.stringify(value),
        timestamp: timestamp ?? T,
      })),
      DEFINITIONS,
    );
  return { parser, parse, reports, reads: () => reads };
}

const CONFIG = {
  last_edited: '2026-01-01T00:00:00Z',
  channels: {
    '001': { display_name: 'Temperature', properties: { data_type: 'TEMPERATURE' } },
    humidity: { display_name: 'Humidity', properties: { data_type: 'HUMIDITY' } },
  },
};

describe('the signal parser', () => {
  it('parses nothing while enable_signal_parser is off', async () => {
    const { parse, reports, reads } = setup([], false);
    expect(await parse(['config_io', CONFIG], ['data_in', { '001': 1 }])).toBeUndefined();
    expect(reports).toEqual([]);
    expect(reads()).toBe(0);
  });

  it('defines one signal per config_io channel with its entry as metadata, then stores data_in values as their samples', async () => {
    const { parse, reports } = setup();
    const parsed = await parse(
      ['config_io', CONFIG],
      ['data_in', { '001': 21.5, humidity: 40, __error: { '001': 'x' } }, T + 1],
    );
    expect(parsed?.signals).toEqual([
      { signal: '001', resource: 'data_in', metadata: JSON.stringify(CONFIG.channels['001']) },
      { signal: 'humidity', resource: 'data_in', metadata: JSON.stringify(CONFIG.channels.humidity) },
    ]);
    expect(parsed?.samples).toEqual([
      { signal: '001', resource: 'data_in', retention: 36, timestamp: T + 1, value: 21.5 },
      { signal: 'humidity', resource: 'data_in', retention: 36, timestamp: T + 1, value: 40 },
    ]);
    expect(reports).toEqual([]);
  });

  it('keeps channel values as the device sent them: objects as JSON text, booleans and strings as such', async () => {
    const { parse } = setup([{ signal: 'loc' }, { signal: 'on' }, { signal: 'state' }]);
    const parsed = await parse(['data_in', { loc: { lat: 43.6, lng: -96.2 }, on: true, state: 'good' }]);
    expect(parsed?.samples.map((s) => s.value)).toEqual(['{"lat":43.6,"lng":-96.2}', true, 'good']);
  });

  it('skips and reports the values of channels no config_io defined', async () => {
    const { parse, reports } = setup([{ signal: '001' }]);
    const parsed = await parse(['data_in', { '001': 1, '002': 2, '003': 3 }]);
    expect(parsed?.samples.map((s) => s.signal)).toEqual(['001']);
    expect(reports).toEqual([
      {
        identity: 'dev',
        reason: 'undefined_channel',
        count: 2,
        detail: 'no config_io defined channel "002", "003"',
      },
    ]);
  });

  it('adds the channels of a later config_io to the earlier ones, which keep their signals', async () => {
    const { parse } = setup();
    await parse(['config_io', CONFIG]);
    const second = await parse(['config_io', { channels: { '002': { display_name: 'Pressure' } } }]);
    expect(second?.signals.map((s) => s.signal)).toEqual(['002']);
    const parsed = await parse(['data_in', { '001': 1, humidity: 2, '002': 3 }]);
    expect(parsed?.samples.map((s) => s.signal)).toEqual(['001', 'humidity', '002']);
  });

  it('reads the channels of an identity from the store once, and again after forget', async () => {
    const { parser, parse, reads } = setup([{ signal: '001' }, { signal: 'temp', resource: 'temp' }]);
    expect((await parse(['data_in', { '001': 1, temp: 2 }]))?.samples.map((s) => s.signal)).toEqual(['001']);
    await parse(['data_in', { '001': 1 }]);
    expect(reads()).toBe(1);
    parser.forget('dev');
    await parse(['data_in', { '001': 1 }]);
    expect(reads()).toBe(2);
  });

  it('refuses a config_io that is not JSON or has no channels object, defining nothing', async () => {
    const { parse, reports } = setup();
    expect(await parse(['config_io', '{"channels": '])).toEqual({ signals: [], samples: [] });
    expect(await parse(['config_io', { channels: ['001'] }])).toEqual({ signals: [], samples: [] });
    expect(await parse(['config_io', '42'])).toEqual({ signals: [], samples: [] });
    expect(reports.map((r) => [r.reason, r.detail])).toEqual([
      ['invalid_config_io', 'config_io is not a JSON object'],
      ['invalid_config_io', 'config_io has no "channels" object'],
      ['invalid_config_io', 'config_io is not a JSON object'],
    ]);
  });

  it('leaves out channels that cannot be signals or are named like a resource, keeping the others', async () => {
    const { parse, reports } = setup([{ signal: 'old_alias', resource: 'old_alias' }]);
    const parsed = await parse([
      'config_io',
      {
        channels: {
          'a/b': {},
          'x.y': {},
          plain: 'not an object',
          temp: {},
          old_alias: {},
          ok: { display_name: 'OK' },
        },
      },
    ]);
    expect(parsed?.signals.map((s) => s.signal)).toEqual(['ok']);
    expect(reports.map((r) => r.reason)).toEqual([
      'invalid_channel',
      'invalid_channel',
      'invalid_channel',
      'channel_is_resource',
      'channel_is_resource',
    ]);
  });

  it('reports a data_in that is not a JSON object', async () => {
    const { parse, reports } = setup([{ signal: '001' }]);
    expect(await parse(['data_in', 'hello'], ['data_in', '[1,2]'])).toEqual({ signals: [], samples: [] });
    expect(reports.map((r) => r.reason)).toEqual(['invalid_data_in', 'invalid_data_in']);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

function problems(env: NodeJS.ProcessEnv, argv: string[] = []): string[] {
  try {
    loadConfig(env, argv);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the contract defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      dataDir: './data',
      bind: '127.0.0.1',
      apiPort: 8080,
      deviceHttpPort: 8081,
      mqttPort: 1883,
      mqttsPort: 8883,
      deviceHttpsPort: 8443,
      restoreTimeout: 30,
    });
  });

  it('reads every variable and lets flags, in both spellings, win over the environment', () => {
    const config = loadConfig(
      {
        FLEETGATE_API_PORT: '9000',
        FLEETGATE_DATA_DIR: '/var/lib/fg',
        FLEETGATE_ADMIN_TOKEN: 'secret',
        FLEETGATE_MQTT_PORT: '0',
      },
      ['--api-port', '0', '--bind=0.0.0.0', '--device-http-port', '18081'],
    );
    expect(config).toMatchObject({
      apiPort: 0,
      dataDir: '/var/lib/fg',
      adminToken: 'secret',
      bind: '0.0.0.0',
      deviceHttpPort: 18081,
      mqttPort: 0,
    });
  });

  it('reports every problem at once, each naming its setting', () => {
    const found = problems({ FLEETGATE_API_PORT: 'eighty', FLEETGATE_BIND: 'not-an-ip' }, [
      '--mqtt-port',
      '70000',
      '--colour',
      'red',
      '--data-dir',
    ]);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('FLEETGATE_API_PORT (--api-port)'),
        expect.stringContaining('FLEETGATE_MQTT_PORT (--mqtt-port)'),
        expect.stringContaining('unknown flag --colour'),
        expect.stringContaining('--data-dir needs a value'),
        expect.stringContaining('FLEETGATE_BIND (--bind)'),
      ]),
    );
    expect(found).toHaveLength(6); // "red" is an unknown argument too
  });

  it('needs both TLS files, readable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-config-'));
    const cert = join(dir, 'cert.pem');
    writeFileSync(cert, 'x');
    expect(problems({ FLEETGATE_TLS_CERT: cert })).toEqual([expect.stringContaining('set both or neither')]);
    expect(problems({ FLEETGATE_TLS_CERT: cert, FLEETGATE_TLS_KEY: join(dir, 'missing.pem') })).toEqual([
      expect.stringMatching(/FLEETGATE_TLS_KEY.*cannot read/),
    ]);
    expect(problems({ FLEETGATE_TLS_CERT: cert, FLEETGATE_TLS_KEY: cert })).toEqual([]);
  });

  it('refuses malformed URLs, and settings whose subsystem this build does not have yet', () => {
    expect(problems({ FLEETGATE_DATABASE_URL: 'mysql://x' })).toEqual([
      expect.stringContaining('must be a postgres:// or postgresql:// URL'),
      expect.stringContaining('PostgreSQL backend is not part of this build'),
    ]);
    expect(problems({ FLEETGATE_WEBHOOK_URL: 'not a url' })[0]).toContain(
      'FLEETGATE_WEBHOOK_URL (--webhook-url): is not a valid URL',
    );
  });

  it('takes a webhook URL with its secret, in the environment or as flags', () => {
    const secret = 'secret-0123456789';
    expect(
      loadConfig({ FLEETGATE_WEBHOOK_URL: 'https://example.com/hook', FLEETGATE_WEBHOOK_SECRET: secret }),
    ).toMatchObject({
      webhookUrl: 'https://example.com/hook',
      webhookSecret: secret,
    });
    expect(
      loadConfig({}, ['--webhook-url', 'http://127.0.0.1:9000/', '--webhook-secret', secret]),
    ).toMatchObject({
      webhookUrl: 'http://127.0.0.1:9000/',
    });
  });

  it('refuses a webhook URL of another scheme, without a secret, or with a short secret', () => {
    const secret = 'secret-0123456789';
    expect(
      problems({ FLEETGATE_WEBHOOK_URL: 'ftp://example.com/x', FLEETGATE_WEBHOOK_SECRET: secret }),
    ).toEqual(['FLEETGATE_WEBHOOK_URL (--webhook-url): must be an http:// or https:// URL']);
    expect(problems({ FLEETGATE_WEBHOOK_URL: 'https://example.com/x' })).toEqual([
      expect.stringMatching(
        /^FLEETGATE_WEBHOOK_SECRET \(--webhook-secret\): required with FLEETGATE_WEBHOOK_URL/,
      ),
    ]);
    expect(problems({ FLEETGATE_WEBHOOK_SECRET: secret })).toEqual([
      expect.stringMatching(/^FLEETGATE_WEBHOOK_SECRET .*only meaningful with FLEETGATE_WEBHOOK_URL/),
    ]);
    expect(
      problems({ FLEETGATE_WEBHOOK_URL: 'https://example.com/x', FLEETGATE_WEBHOOK_SECRET: 'short' }),
    ).toEqual(['FLEETGATE_WEBHOOK_SECRET (--webhook-secret): must have at least 16 characters']);
  });

  it('takes a readable event handler path, and names the setting when it is not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-config-'));
    const handler = join(dir, 'handler.mjs');
    writeFileSync(handler, 'export default async function () {}');
    expect(loadConfig({ FLEETGATE_EVENT_HANDLER: handler })).toMatchObject({ eventHandler: handler });
    expect(problems({}, ['--event-handler', join(dir, 'missing.mjs')])).toEqual([
      expect.stringMatching(/^FLEETGATE_EVENT_HANDLER \(--event-handler\): cannot read/),
    ]);
  });

  it('takes an archive directory and a restore timeout in seconds, refusing one that is not a whole number', () => {
    expect(loadConfig({ FLEETGATE_ARCHIVE_DIR: '/srv/archive' }, ['--restore-timeout', '5'])).toMatchObject({
      archiveDir: '/srv/archive',
      restoreTimeout: 5,
    });
    expect(problems({ FLEETGATE_RESTORE_TIMEOUT: 'soon' })).toEqual([
      'FLEETGATE_RESTORE_TIMEOUT (--restore-timeout): must be a whole number, got "soon"',
    ]);
    expect(problems({}, ['--restore-timeout=0'])).toEqual([
      expect.stringMatching(/^FLEETGATE_RESTORE_TIMEOUT \(--restore-timeout\): /),
    ]);
  });
});

#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { ARCHIVE_USAGE, runArchive, type CliIo } from './cli/archive-command.js';
import { CALL_USAGE, runCall } from './cli/call-command.js';
import { RESTORE_USAGE, runRestore } from './cli/restore-command.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { ConfigSchema, envName, flagName } from './config/config-schema.js';
import { createGateway, StartupError } from './gateway.js';
import { onStopSignal, serveOnGatewayThread, shouldStartGatewayThread } from './gateway-thread.js';
import { packageVersion } from './version.js';

function usage(): string {
  const settings = Object.entries(ConfigSchema.properties).map(
    ([key, schema]) =>
      `  ${flagName(key).padEnd(22)} ${envName(key).padEnd(30)} ${schema.description ?? ''}${'default' in schema ? ` [${String(schema.default)}]` : ''}`,
  );
  return [
    'usage: fleetgate <command>',
    '',
    'commands:',
    '  serve [flags]                 start the gateway',
    '  call <operation> [json]       call a running gateway (fleetgate call --help)',
    '  archive --day YYYY-MM-DD      write a day of samples to the archive files (fleetgate archive --help)',
    '  restore ...                   restore archived data with a progress bar (fleetgate restore --help)',
    '  version                       print the version',
    '',
    'serve flags (each also an environment variable):',
    ...settings,
  ].join('\n');
}

async function serve(argv: string[]): Promise<void> {
  if (shouldStartGatewayThread()) return serveOnGatewayThread(new URL(import.meta.url), ['serve', ...argv]);
  const logger = pino({ base: undefined });
  let config;
  try {
    config = loadConfig(process.env, argv);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`fleetgate: ${error.message}\n`);
    process.exit(2);
  }
  // An event handler module may start work it does not await; if that fails, the rejection has
  // no one to catch it, and Node's default would end the whole gateway. It is logged instead.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  let gateway;
  try {
    gateway = createGateway(config, { logger });
    await gateway.start();
    // One line once every listener is bound: what supervisors and tests wait for.
    logger.info('ready');
  } catch (error) {
    process.stderr.write(
      `fleetgate: ${error instanceof StartupError ? error.message : `cannot start: ${(error as Error).message}`}\n`,
    );
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping');
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  onStopSignal(shutdown);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'call':
      if (rest[0] === '--help' || rest[0] === '-h') return void process.stdout.write(`${CALL_USAGE}\n`);
      process.exitCode = await runCall(rest, {
        env: process.env,
        stdout: (text) => process.stdout.write(`${text}\n`),
        stderr: (text) => process.stderr.write(`${text}\n`),
        readStdin: () => readFileSync(0, 'utf8'),
      });
      return;
    case 'archive':
    case 'restore': {
      const [usage, run] = command === 'archive' ? [ARCHIVE_USAGE, runArchive] : [RESTORE_USAGE, runRestore];
      if (rest[0] === '--help' || rest[0] === '-h') return void process.stdout.write(`${usage}\n`);
      const io: CliIo = {
        env: process.env,
        stdout: {
          isTTY: process.stdout.isTTY,
          columns: process.stdout.columns,
          write: (text) => void process.stdout.write(text),
        },
        stderr: (text) => process.stderr.write(`${text}\n`),
      };
      process.exitCode = await run(rest, io);
      return;
    }
    case 'version':
    case '--version':
      return void process.stdout.write(`${packageVersion()}\n`);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return void process.stdout.write(`${usage()}\n`);
    default:
      process.stderr.write(`fleetgate: unknown command "${command}"\n${usage()}\n`);
      process.exitCode = 2;
  }
}

await main(process.argv.slice(2));

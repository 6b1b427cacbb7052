import { join } from 'node:path';
import { createFileArchive } from '../archive/archive-files.js';
import { dayStart } from '../core/archive-day.js';
import { archiveLiveDay } from '../core/partition-archiver.js';
import { openReadonlyArchiveSource } from '../storage/sqlite/readonly-archive.js';
import { option } from './call-command.js';
import { count, duration, Progress, type ProgressOutput } from './progress.js';

export const ARCHIVE_USAGE = `usage: fleetgate archive --day YYYY-MM-DD [--day YYYY-MM-DD ...] [--data-dir DIR] [--archive-dir DIR]
  Writes the samples of each day (every retention class) to the daily archive files,
  <archive dir>/<YYYY>/<MM>/<YYYY-MM-DD>.r<retention>.ndjson.gz with a .sha256 beside each,
  merged into the files already there; the samples stay in the database. It reads the
  gateway's database directly and read-only, whether the gateway runs or not. The directories
  default to FLEETGATE_DATA_DIR (./data) and FLEETGATE_ARCHIVE_DIR (<data dir>/archive).`;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: ProgressOutput;
  stderr: (text: string) => void;
}

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** `fleetgate archive`: returns the process exit code. */
export async function runArchive(argv: string[], io: CliIo): Promise<number> {
  const args = [...argv];
  const dataDir = option(args, '--data-dir') ?? io.env.FLEETGATE_DATA_DIR ?? './data';
  const archiveDir =
    option(args, '--archive-dir') ?? io.env.FLEETGATE_ARCHIVE_DIR ?? join(dataDir, 'archive');
  const days: string[] = [];
  for (let day = option(args, '--day'); day !== undefined; day = option(args, '--day')) days.push(day);
  const bad = days.find((day) => dayStart(day) === undefined);
  if (days.length === 0 || args.length > 0 || bad !== undefined) {
    if (bad !== undefined)
      io.stderr(`fleetgate archive: --day ${bad} is not a calendar date written YYYY-MM-DD`);
    io.stderr(ARCHIVE_USAGE);
    return 2;
  }
  let source;
  try {
    source = openReadonlyArchiveSource(join(dataDir, 'fleetgate.db'));
  } catch (error) {
    io.stderr(`fleetgate archive: cannot read the database of ${dataDir}: ${(error as Error).message}`);
    return 1;
  }
  const files = createFileArchive({ dir: archiveDir, urlTimeoutMs: 30_000 });
  try {
    for (const day of [...new Set(days)].sort()) {
      const started = performance.now();
      const total = await source.reader.countDay(day);
      if (total === 0) {
        io.stdout.write(`${day}: no samples to archive\n`);
        continue;
      }
      const progress = new Progress(io.stdout, `archive ${day}`);
      progress.update(0, `0/${count(total)} samples`);
      const written = await archiveLiveDay(
        { source: source.reader, files, resources: source.resources },
        day,
        (rows) => progress.update(rows / total, `${count(rows)}/${count(total)} samples`),
      );
      progress.end();
      const elapsed = performance.now() - started;
      io.stdout.write(
        `archived ${day}: ${count(total)} samples in ${written.length} file${written.length === 1 ? '' : 's'}, ${duration(elapsed)} (${count((total / elapsed) * 1000)} samples/s)\n`,
      );
      for (const file of written)
        io.stdout.write(
          `  ${join(archiveDir, file.name)}  ${count(file.rows)} rows  ${megabytes(file.bytes)}  sha256 ${file.sha256}\n`,
        );
    }
    return 0;
  } catch (error) {
    io.stderr(`fleetgate archive: ${(error as Error).message}`);
    return 1;
  } finally {
    source.close();
  }
}

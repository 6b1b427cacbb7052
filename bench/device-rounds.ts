import { fixed, int, secondsSpread, table, yesNo, type PartContext, type Target } from './device-report.js';

export interface Contender {
  label: string;
  start(): Promise<Target>;
}

export interface Compared<M> {
  label: string;
  /** One measurement per round, in order. */
  rounds: M[];
}

/**
 * Starts every contender, then measures them in turn, `context.rounds` times over, and stops
 * them all. Alternating the servers within one run shares out the drifts of a busy machine
 * between them, which one measurement each, minutes apart, would not. A contender that fails to
 * start or to be measured is left out from then on, with a note saying why.
 */
export async function compareInRounds<M extends { rate: number }>(
  context: PartContext,
  part: string,
  contenders: Contender[],
  measure: (target: Target) => Promise<M>,
): Promise<{ compared: Compared<M>[]; notes: string[] }> {
  const notes: string[] = [];
  const started: { label: string; target: Target; rounds: M[] }[] = [];
  try {
    for (const contender of contenders) {
      context.log(`${part}: starting ${contender.label}…`);
      try {
        started.push({ label: contender.label, target: await contender.start(), rounds: [] });
      } catch (error) {
        notes.push(`${contender.label} failed: ${(error as Error).message}`);
        context.log(`${part}: ${notes.at(-1)!}`);
      }
    }
    for (let round = 1; round <= context.rounds; round++) {
      for (const entry of started.filter((s) => s.rounds.length === round - 1)) {
        try {
          const result = await measure(entry.target);
          entry.rounds.push(result);
          context.log(`${part}: ${entry.label}, round ${round}: ${int(result.rate)}/s`);
        } catch (error) {
          notes.push(`${entry.label} failed: ${(error as Error).message}`);
          context.log(`${part}: ${notes.at(-1)!}`);
        }
      }
    }
  } finally {
    for (const entry of started) await entry.target.close();
  }
  return {
    compared: started.filter((s) => s.rounds.length > 0).map(({ label, rounds }) => ({ label, rounds })),
    notes,
  };
}

const micros = (us: number) => (us < 10 ? fixed(us, 1) : int(us));

/** The round with the median rate (the lower of the two middle ones for an even count). */
export function medianRound<M extends { rate: number }>(rounds: M[]): M {
  const sorted = [...rounds].sort((a, b) => a.rate - b.rate);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export interface TimedMeasure {
  rate: number;
  perSecond: number[];
  serverCores: number;
  generatorCores: number;
  failures: string;
}

/**
 * The table of a timed part: each server's median round, every round's rate when there are
 * several, and fleetgate's ratio to the reference server (target ≥ 0.5).
 */
export function comparisonReport<M extends TimedMeasure>(
  context: PartContext,
  compared: Compared<M>[],
  notes: { failures: string[]; info: string[] },
  options: { reference: string; unit: string; per: string; extra?: { header: string; cell(m: M): string } },
): { lines: string[]; failed: boolean } {
  const reference = compared.find((c) => c.label === options.reference);
  const fleetgate = compared.find((c) => c.label === 'fleetgate');
  const referenceRate = reference ? medianRound(reference.rounds).rate : Number.NaN;
  const short = options.reference.split(' ')[0]!;
  const several = context.rounds > 1;
  const rows = compared.map((c) => {
    const m = medianRound(c.rounds);
    const failures = [...new Set(c.rounds.map((r) => r.failures).filter(Boolean))].join('; ');
    return [
      c.label,
      ...(options.extra ? [options.extra.cell(m)] : []),
      int(m.rate),
      secondsSpread(m.perSecond),
      ...(several ? [c.rounds.map((r) => int(r.rate)).join(' / ')] : []),
      fixed(m.serverCores),
      micros((m.serverCores * 1e6) / m.rate),
      fixed(m.generatorCores),
      fixed(m.rate / referenceRate),
      failures,
    ];
  });
  const header = [
    'Server',
    ...(options.extra ? [options.extra.header] : []),
    several ? `${options.unit} (median round)` : options.unit,
    'Per second min / median / max',
    ...(several ? ['Each round'] : []),
    'Server CPU (cores)',
    `Server CPU (µs per ${options.per})`,
    'Generator CPU (cores)',
    `vs ${short}`,
    'Failures',
  ];
  const lines = table(header, rows);
  let failed = notes.failures.length > 0 || compared.some((c) => c.rounds.some((r) => r.failures !== ''));
  const summary: string[] = [];
  if (fleetgate && reference) {
    const ratio = medianRound(fleetgate.rounds).rate / referenceRate;
    const perRound = several
      ? ` (per round: ${fleetgate.rounds.map((r, i) => fixed(r.rate / (reference.rounds[i]?.rate ?? Number.NaN))).join(', ')})`
      : '';
    summary.push(
      `**fleetgate / ${short} = ${fixed(ratio, 3)}** (target ≥ 0.5): ${yesNo(ratio >= 0.5)}${perRound}`,
    );
    failed ||= ratio < 0.5;
  }
  return { lines: [...lines, '', ...summary, ...notes.failures, ...notes.info], failed };
}

/** Where progress goes: a terminal redraws one line; anything else gets plain lines. */
export interface ProgressOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): void;
}

const BAR = 24;
const REDRAW_MS = 100;
/** Without a terminal, a progress line every so many percent. */
const STEP = 10;

export const count = (n: number) => Math.round(n).toLocaleString('en-US');

export function duration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/**
 * A progress bar on a terminal (one line, redrawn at most every 100 ms), or plain lines at every
 * tenth elsewhere (a pipe, a log file, CI), so that output stays readable when it is not a TTY.
 */
export class Progress {
  private drawn = 0;
  private visible = false;
  private step = -1;

  constructor(
    private readonly out: ProgressOutput,
    private readonly label: string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  update(fraction: number, status: string): void {
    const share = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
    const percent = Math.floor(share * 100);
    if (!this.out.isTTY) {
      const step = Math.floor(percent / STEP);
      if (step === this.step) return;
      this.step = step;
      this.out.write(`${this.label}: ${percent}% ${status}\n`);
      return;
    }
    const at = this.now();
    if (this.visible && at - this.drawn < REDRAW_MS && share < 1) return;
    this.drawn = at;
    const filled = Math.round(share * BAR);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${String(percent).padStart(3)}% ${status}`;
    const width = (this.out.columns ?? 80) - 1;
    this.out.write(`\r\x1b[K${line.length > width ? line.slice(0, width) : line}`);
    this.visible = true;
  }

  /** A line that stays (above the bar on a terminal). */
  log(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
  }

  /** Takes the bar away before the summary. */
  end(): void {
    this.clear();
  }

  private clear(): void {
    if (!this.visible) return;
    this.out.write('\r\x1b[K');
    this.visible = false;
    this.drawn = 0;
  }
}

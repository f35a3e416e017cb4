/** Minimum gap between two warnings from one exporter, whatever happens in between. */
const MIN_INTERVAL_MS = 5 * 60_000;

/**
 * Tells the user once that spans are not leaving the process, instead of once per batch: the first failure of a
 * streak warns, later ones stay silent until an export succeeds again, and never more than once per 5 minutes.
 */
export class FailureWarning {
  private warnedAt = Number.NEGATIVE_INFINITY;
  private inStreak = false;

  constructor(
    private readonly exporterName: string,
    private readonly url: string,
    private readonly warn: (message: string) => void = console.warn,
  ) {}

  failed(error: Error, connectionRefused: boolean): void {
    if (this.inStreak) return;
    this.inStreak = true;
    const now = Date.now();
    if (now - this.warnedAt < MIN_INTERVAL_MS) return;
    this.warnedAt = now;
    const reason = connectionRefused ? 'nothing is listening there' : error.message;
    this.warn(
      `tracewire: ${this.exporterName} could not send spans to ${this.url} (${reason}); ` +
        'spans are dropped and counted in tracer.stats until it can. This is reported once.',
    );
  }

  succeeded(): void {
    this.inStreak = false;
  }
}

/**
 * One warning line per `intervalMillis`, whatever it is about: a process whose collector is gone or too slow says so
 * once, not once per exporter streak and again per dropped batch. `configure()` shares one between its exporters
 * and batch processors.
 */
export function rateLimitedWarn(
  warn: (message: string) => void = console.warn,
  intervalMillis: number = MIN_INTERVAL_MS,
): (message: string) => void {
  let warnedAt = Number.NEGATIVE_INFINITY;
  return (message) => {
    const now = Date.now();
    if (now - warnedAt < intervalMillis) return;
    warnedAt = now;
    warn(message);
  };
}

import { printable } from './log-text.js';

/** Minimum gap between two lines from one limiter, and between two reminders of one outage. */
const MIN_INTERVAL_MS = 5 * 60_000;

/** Where a warning goes. A rate-limited one answers `false` when it held the line back; other answers are ignored. */
export type WarnFunction = (message: string) => unknown;

/** `rateLimitedWarn`'s function: a line per interval, and `unlimited` for the one that closes a line it let out. */
export interface RateLimitedWarn {
  (message: string): boolean;
  unlimited(message: string): void;
}

/**
 * Tells the user when spans stop leaving the process, instead of once per batch: the first failed attempt of an
 * outage says so at once, a reminder follows at most every 5 minutes while exports keep failing, and the first
 * success after a reported outage says it is over and what it cost. A line the shared limiter held back (another
 * warning went out just before) is tried again on the next failure, so an outage is never left unreported.
 */
export class FailureWarning {
  #since: number | undefined;
  #failedExports = 0;
  #reportedAt: number | undefined;

  constructor(
    private readonly exporterName: string,
    private readonly url: string,
    private readonly warn: WarnFunction = console.warn,
  ) {}

  /** An attempt failed; `final` when the export gave up and its spans are dropped. */
  failed(error: Error, connectionRefused: boolean, final: boolean): void {
    const now = Date.now();
    this.#since ??= now;
    if (final) this.#failedExports++;
    const reason = connectionRefused ? 'nothing is listening there' : printable(error.message, 300);
    if (this.#reportedAt === undefined) {
      const said = this.#say(
        `tracewire: ${this.exporterName} cannot send spans to ${this.url} (${reason}). It keeps trying; spans ` +
          'it cannot send are dropped and counted in tracer.stats.droppedExportFailed. This is reported again ' +
          'every 5 minutes while it lasts, and when it ends.',
      );
      if (said) this.#reportedAt = now;
    } else if (final && now - this.#reportedAt >= MIN_INTERVAL_MS) {
      const said = this.#say(
        `tracewire: ${this.exporterName} still cannot send spans to ${this.url} (${reason}): ` +
          `${this.#failedExports} exports failed since ${new Date(this.#since).toISOString()}.`,
      );
      if (said) this.#reportedAt = now;
    }
  }

  succeeded(): void {
    if (this.#since === undefined) return;
    if (this.#reportedAt !== undefined) {
      const cost =
        this.#failedExports === 0
          ? 'a retry got through; no spans were lost'
          : `${this.#failedExports} exports failed since ${new Date(this.#since).toISOString()}`;
      this.#sayUnlimited(`tracewire: ${this.exporterName} is sending spans to ${this.url} again (${cost}).`);
    }
    this.#since = undefined;
    this.#failedExports = 0;
    this.#reportedAt = undefined;
  }

  #say(message: string): boolean {
    try {
      return this.warn(message) !== false;
    } catch {
      // A throwing warn function must not fail the export; the line counts as said.
      return true;
    }
  }

  #sayUnlimited(message: string): void {
    try {
      ((this.warn as Partial<RateLimitedWarn>).unlimited ?? this.warn)(message);
    } catch {
      // As above.
    }
  }
}

/**
 * One warning line per `intervalMillis`, whatever it is about: a process whose collector is gone or too slow says so
 * once, not once per exporter and again per dropped batch. `configure()` shares one between its exporters and batch
 * processors. A limiter given another limiter passes its answers through.
 */
export function rateLimitedWarn(
  warn: WarnFunction = console.warn,
  intervalMillis: number = MIN_INTERVAL_MS,
): RateLimitedWarn {
  let warnedAt = Number.NEGATIVE_INFINITY;
  const limited = (message: string): boolean => {
    const now = Date.now();
    if (now - warnedAt < intervalMillis) return false;
    if (warn(message) === false) return false;
    warnedAt = now;
    return true;
  };
  limited.unlimited = (message: string): void => {
    const inner = (warn as Partial<RateLimitedWarn>).unlimited ?? warn;
    inner(message);
  };
  return limited;
}

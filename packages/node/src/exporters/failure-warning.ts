import { builtinShared } from '../builtin-shared.js';
import { sdkWarn } from '../sdk-warn.js';
import { printable } from './log-text.js';

/** Minimum gap between two lines from one limiter, and between two reminders of one outage. */
const MIN_INTERVAL_MS = 5 * 60_000;

/** Where a warning goes. What it returns is ignored, unless it is a `RateLimitedWarn`. */
export type WarnFunction = (message: string) => unknown;

/**
 * `rateLimitedWarn`'s function: a line per interval, answering whether it let this one out, and `unlimited` for
 * the line that closes one it let out (an outage's end).
 */
export interface RateLimitedWarn {
  (message: string): boolean;
  unlimited(message: string): void;
}

export function isRateLimited(warn: WarnFunction): warn is RateLimitedWarn {
  return typeof (warn as Partial<RateLimitedWarn>).unlimited === 'function';
}

/**
 * Tells the user when spans stop leaving the process, instead of once per batch: the first failed attempt of an
 * outage says so, a reminder follows at most every 5 minutes while exports keep failing, and the first success
 * after a reported outage says it is over and what it cost. Every line but that last goes through the limiter: one
 * it held back (another warning went out less than 5 minutes before) is tried again on the next failure, and an
 * outage that begins and ends within that time is only counted, in tracer.stats.
 */
export class FailureWarning {
  #since: number | undefined;
  #failedExports = 0;
  #reportedAt: number | undefined;

  constructor(
    private readonly exporterName: string,
    private readonly url: string,
    private readonly warn: RateLimitedWarn,
  ) {}

  /**
   * An attempt failed; `final` when the export gave up and its spans are dropped, `closing` when it was one of the
   * last (the exporter is shutting down): nothing will try again, which the first line then says.
   */
  failed(error: Error, connectionRefused: boolean, final: boolean, closing = false): void {
    const now = Date.now();
    this.#since ??= now;
    if (final) this.#failedExports++;
    const reason = connectionRefused ? 'nothing is listening there' : printable(error.message, 300);
    if (this.#reportedAt === undefined) {
      // Another tracer of the process said it already (a test runner's next file, a configure() that replaced one).
      const reportedElsewhere = builtinShared.outagesReported.get(this.url);
      if (reportedElsewhere !== undefined && now - reportedElsewhere < MIN_INTERVAL_MS) return;
      const said = this.warn(
        closing
          ? `tracewire: ${this.exporterName} cannot send the last spans to ${this.url} (${reason}); they are ` +
              'dropped and counted in tracer.stats.droppedExportFailed.'
          : `tracewire: ${this.exporterName} cannot send spans to ${this.url} (${reason}). Later batches ` +
              'try again; spans it cannot send are dropped and counted in tracer.stats.droppedExportFailed. ' +
              'This is reported again every 5 minutes while it lasts, and when it ends.',
      );
      if (said) {
        this.#reportedAt = now;
        builtinShared.outagesReported.set(this.url, now);
      }
    } else if (final && now - this.#reportedAt >= MIN_INTERVAL_MS) {
      const said = this.warn(
        `tracewire: ${this.exporterName} still cannot send spans to ${this.url} (${reason}): ` +
          `${exportsFailed(this.#failedExports)} since ${new Date(this.#since).toISOString()}.`,
      );
      if (said) this.#reportedAt = now;
    }
  }

  /**
   * The delivery as the process exits failed: nothing will try again. Said once, under the limiter, unless an outage
   * already reported covers it: a crash's own report follows this line on stderr.
   */
  lostAtExit(error: Error, connectionRefused: boolean): void {
    if (this.#reportedAt !== undefined) return;
    const reason = connectionRefused ? 'nothing is listening there' : printable(error.message, 300);
    if (
      this.warn(
        `tracewire: ${this.exporterName} could not deliver the last spans to ${this.url} as the process exited ` +
          `(${reason}); they are lost.`,
      )
    )
      this.#reportedAt = Date.now();
  }

  succeeded(): void {
    if (this.#since === undefined) return;
    if (this.#reportedAt !== undefined) {
      const cost =
        this.#failedExports === 0
          ? 'a retry got through; no export failed'
          : `${exportsFailed(this.#failedExports)} since ${new Date(this.#since).toISOString()}`;
      this.warn.unlimited(`tracewire: ${this.exporterName} is sending spans to ${this.url} again (${cost}).`);
    }
    this.#since = undefined;
    this.#failedExports = 0;
    this.#reportedAt = undefined;
  }
}

function exportsFailed(count: number): string {
  return `${count} export${count === 1 ? '' : 's'} failed`;
}

/**
 * One warning line per `intervalMillis`, whatever it is about: a process whose collector is gone or too slow says so
 * once, not once per exporter and again per dropped batch. `configure()` shares one between its exporters and batch
 * processors; an exporter built alone makes its own. A limiter given another limiter passes its answers through.
 */
export function rateLimitedWarn(
  warn: WarnFunction = sdkWarn,
  intervalMillis: number = MIN_INTERVAL_MS,
): RateLimitedWarn {
  let warnedAt = Number.NEGATIVE_INFINITY;
  const limited = (message: string): boolean => {
    const now = Date.now();
    if (now - warnedAt < intervalMillis) return false;
    if (isRateLimited(warn)) {
      if (!warn(message)) return false;
    } else sayTo(warn, message);
    warnedAt = now;
    return true;
  };
  limited.unlimited = (message: string): void => {
    if (isRateLimited(warn)) warn.unlimited(message);
    else sayTo(warn, message);
  };
  return limited;
}

/** The app's warn function may throw; what warned (an export, a request's span) must not fail for it. */
function sayTo(warn: WarnFunction, message: string): void {
  try {
    warn(message);
  } catch {
    // The line counts as said.
  }
}

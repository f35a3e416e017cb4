// The longest delay a Node timer takes; the timer only has to exist, it never fires in practice.
const LONGEST_DELAY_MS = 2 ** 31 - 1;

/**
 * Keeps the process alive until `work` settles. The exporter's retry waits and timers are unref'd so they never keep
 * an app alive on their own; but while a caller awaits a flush, an event loop left with only those would end the
 * process (exit code 13 under a top-level await) or let AWS Lambda's runtime answer the invocation before the
 * flush, whenever the collector is down or slow. Bounded by the exporter's own timeout.
 */
export function holdProcessWhile<T>(work: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, LONGEST_DELAY_MS);
  return work.finally(() => clearInterval(hold));
}

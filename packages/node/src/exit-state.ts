import { withDeadline } from './deadline.js';

/**
 * Whether the process is on its way out: set by the exit hooks (`beforeExit`, SIGTERM, SIGINT) as they start their
 * flush. Exporters stop retrying a collector that is not running then: no later attempt can reach it before the
 * exit, and each one only delays it (5 s of Ctrl-C on a developer's machine with no collector).
 */
let exiting = false;
let announce: () => void = () => {};
const exitStarted = new Promise<void>((resolve) => {
  announce = resolve;
});

export function markExiting(): void {
  exiting = true;
  announce();
}

export function isExiting(): boolean {
  return exiting;
}

/** Settles when the exit hooks start their flush: a retry waiting for its turn wakes up then. */
export function whenExiting(): Promise<void> {
  return exitStarted;
}

/** When an exit hook's flush last gave up on the collector (its deadline passed first), epoch ms. */
let lastGaveUpAt = -Infinity;

/**
 * An exit hook's flush: `work`, waited for at most `timeoutMillis` (the deadline holds the process with
 * `keepAlive`). One that runs out of time is remembered, so that the `exit` coming right after a `beforeExit` flush
 * the collector never answered does not wait for it again (`exitDeliveryBudget`).
 */
export async function runExitFlush(
  timeoutMillis: number,
  work: () => Promise<unknown>,
  keepAlive = false,
): Promise<void> {
  let finished = false;
  await withDeadline(
    async () => {
      await work();
      finished = true;
    },
    timeoutMillis,
    keepAlive,
  );
  if (!finished) lastGaveUpAt = Date.now();
}

/**
 * How long the last delivery at the exit may take: `timeoutMillis`, or nothing when an exit hook's flush gave up on
 * the collector within that time. A flush still running (a signal's, with `process.exit()` called right after it)
 * leaves the whole budget: what it had taken is sent again only if it never reached the collector.
 */
export function exitDeliveryBudget(timeoutMillis: number): number {
  return Date.now() - lastGaveUpAt < timeoutMillis ? 0 : timeoutMillis;
}

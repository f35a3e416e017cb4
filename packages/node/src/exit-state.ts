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

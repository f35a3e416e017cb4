import { timerDelay } from './timer-delay.js';

/**
 * Waits for what `work` starts, at most `millis`; its failure, thrown or rejected, is ignored: flushes and shutdowns
 * report nothing, and must never turn into a rejection in the app. The timer holds the process only with
 * `keepAlive`.
 */
export async function withDeadline(work: () => unknown, millis: number, keepAlive = false): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timerDelay(millis));
    if (!keepAlive) timer.unref();
  });
  let running: Promise<unknown>;
  try {
    running = Promise.resolve(work()).catch(() => undefined);
  } catch {
    running = Promise.resolve();
  }
  try {
    await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

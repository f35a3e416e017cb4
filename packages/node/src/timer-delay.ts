/**
 * The longest delay Node's timers keep: 2^31 - 1 ms, about 24.8 days. A longer one fires after 1 ms instead (with a
 * TimeoutOverflowWarning), so a timeout meant as "a very long time" would end every export at once. OpenTelemetry
 * lets an SDK read an indefinite timeout as this one, and its integers go up to it.
 */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1;

/** `millis` as a timer can take it: at most `MAX_TIMER_MILLIS`. */
export function timerDelay(millis: number): number {
  return Math.min(millis, MAX_TIMER_MILLIS);
}

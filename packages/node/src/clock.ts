/**
 * Epoch milliseconds with sub-millisecond precision. `performance.now()` is monotonic, so two readings never go
 * backwards the way `Date.now()` can when the wall clock is adjusted.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

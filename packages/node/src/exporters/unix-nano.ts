const NANOS_PER_MILLI = 1_000_000n;

/**
 * Epoch milliseconds (with sub-millisecond fraction) to epoch nanoseconds, exactly: splitting off the whole
 * milliseconds first keeps the fraction's bits, where `ms * 1e6` as a double would round to ~256 ns at today's epoch.
 */
export function toUnixNano(ms: number): bigint {
  if (!(ms > 0) || !Number.isFinite(ms)) return 0n;
  const whole = Math.floor(ms);
  const nanos = Math.round((ms - whole) * 1e6);
  return BigInt(whole) * NANOS_PER_MILLI + BigInt(nanos);
}

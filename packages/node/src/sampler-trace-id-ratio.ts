import { type IgnoresCallers, kIgnoresCallers, type Sampler } from './sampler.js';

const HALF = 2 ** 28;

/**
 * Samples `ratio` of traces, decided by the trace id alone so that every service given the same ratio agrees.
 *
 * OpenTelemetry trace specification, TraceIdRatioBased with W3C Trace Context Level 2 randomness: the rightmost
 * 56 bits (14 hex characters) of the trace id are the randomness R, the rejection threshold is
 * T = (1 - ratio) * 2^56, and the span is sampled when R >= T. 56 bits do not fit a double exactly, so R and T are
 * compared as two 28-bit halves.
 */
export function traceIdRatio(ratio: number): Sampler {
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    throw new RangeError(`traceIdRatio: ratio must be a number from 0 to 1, got ${String(ratio)}`);
  }
  const threshold = 2n ** 56n - BigInt(Math.round(ratio * 2 ** 56));
  const thresholdHigh = Number(threshold / BigInt(HALF));
  const thresholdLow = Number(threshold % BigInt(HALF));
  const description = `TraceIdRatioBased{${ratio}}`;
  const sampler: IgnoresCallers = {
    [kIgnoresCallers]: true,
    shouldSample(traceId) {
      if (traceId.length !== 32) return false;
      const high = Number.parseInt(traceId.slice(18, 25), 16);
      const low = Number.parseInt(traceId.slice(25, 32), 16);
      return high > thresholdHigh || (high === thresholdHigh && low >= thresholdLow);
    },
    toString: () => description,
  };
  return sampler;
}

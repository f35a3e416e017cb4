import { performance } from 'node:perf_hooks';

// The module's own binding, not the `performance` global: Node defines that global as a lazy accessor, and reading
// it plus `timeOrigin` (a getter) cost about 600 instructions per reading on Node 20, twice per span.

/**
 * Epoch milliseconds at monotonic 0, as the wall clock last said. `performance.now()` does not count time the
 * machine was suspended, and the wall clock may be stepped (NTP at boot, a VM resumed or migrated): a process
 * that kept `timeOrigin` for good stamped its spans hours in the past after a laptop's sleep, out of a trace
 * search's window. Checked against `Date.now()` at most once a second, and moved only by more than a few ms
 * (`Date.now()` has whole milliseconds).
 */
let wallAtZero = performance.timeOrigin;
let checkedAt = Number.NEGATIVE_INFINITY;
const CHECK_EVERY_MILLIS = 1000;
const TOLERANCE_MILLIS = 5;

/** Monotonic milliseconds: durations from two readings never go backwards the way `Date.now()` can. */
export function monotonicNow(): number {
  return performance.now();
}

/**
 * The clock a span without an active parent starts: epoch ms = this + `monotonicNow()`. Its children keep it, so a
 * clock step during a request moves none of its spans against the others (OpenTelemetry Java anchors per local root
 * span the same way; OpenTelemetry JS reads `Date.now()` per span); the next trace starts on the corrected clock.
 */
export function rootClockAt(monotonic: number): number {
  // A reading before the last check means that one came from a faked clock (fake timers that fake
  // `performance.now()` too), now restored: check again rather than keep a fake anchor until the real clock gets there.
  if (monotonic - checkedAt >= CHECK_EVERY_MILLIS || monotonic < checkedAt) {
    checkedAt = monotonic;
    // Date.now() rounds down: its millisecond's middle is the best guess of the wall clock now.
    const drift = Date.now() + 0.5 - (wallAtZero + monotonic);
    if (drift > TOLERANCE_MILLIS || drift < -TOLERANCE_MILLIS) wallAtZero += drift;
  }
  return wallAtZero;
}

/** A time given as epoch milliseconds or as a Date; undefined for anything else, or a time that is no number. */
export function epochMillisOrDate(time: unknown): number | undefined {
  const ms = time instanceof Date ? time.getTime() : time;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}

/** Epoch milliseconds with sub-millisecond precision, on the clock a new trace would start. */
export function now(): number {
  const monotonic = performance.now();
  return rootClockAt(monotonic) + monotonic;
}

/**
 * `anchored` (a time on a span's anchor), or the wall clock's own reading when the two disagree by more than a few
 * ms: for a span whose start the caller gave, which is on the wall clock, perhaps a faked or stepped one
 * (OpenTelemetry's SDK ends such a span by `Date.now()`). Agreeing, the anchored time keeps it after its children.
 */
export function wallClockOr(anchored: number): number {
  const wall = Date.now() + 0.5;
  return wall - anchored > TOLERANCE_MILLIS || anchored - wall > TOLERANCE_MILLIS ? wall - 0.5 : anchored;
}

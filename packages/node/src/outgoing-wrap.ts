import { isTracingSuppressed } from './context.js';
import { type ClientCall, endClientCall, type OutgoingState } from './outgoing-span.js';

type Callable<R> = (this: unknown, ...args: unknown[]) => R;

/** One layer's "the original is running" flag (see `wrapCallMaker`). */
export interface NestingGuard {
  inside: boolean;
}

/** A traced call, and the arguments that carry its trace headers. */
export interface PreparedCall {
  readonly call: ClientCall;
  readonly args: unknown[];
}

/**
 * Wraps a function that makes an outgoing call (`http.request`, an HTTP/2 session's `request`). `prepare` decides
 * whether the call is traced and returns the arguments with its headers; `track` watches what `original` returned.
 * Instrumentation failures are counted and the call goes out as the caller made it; what `original` throws reaches
 * the caller unchanged. While `original` runs, `guard.inside` is set: a library that routes one call through
 * another wrapped function of the same layer (`get` through `request`), or a second copy of this package wrapping
 * on top, must not trace the same call twice.
 */
export function wrapCallMaker<R>(
  state: OutgoingState,
  guard: NestingGuard,
  original: Callable<R>,
  prepare: (self: unknown, args: unknown[]) => PreparedCall | undefined,
  track: (result: R, call: ClientCall) => void,
): Callable<R> {
  const wrapper = function traced(this: unknown, ...args: unknown[]): R {
    // Suppressed calls (the exporters' own) skip even reading their arguments: one batch's POST each time.
    if (guard.inside || !state.active || isTracingSuppressed()) return original.apply(this, args);
    let call: ClientCall | undefined;
    try {
      const prepared = prepare(this, args);
      if (prepared !== undefined) {
        call = prepared.call;
        args = prepared.args;
      }
    } catch {
      state.tracer.stats.instrumentationErrors++;
    }
    let result: R;
    guard.inside = true;
    try {
      result = original.apply(this, args);
    } catch (error) {
      // Invalid arguments, a closed session: Node throws synchronously and the caller sees exactly that error.
      if (call !== undefined) endClientCall(call, error);
      throw error;
    } finally {
      guard.inside = false;
    }
    if (call !== undefined) {
      try {
        track(result, call);
      } catch {
        state.tracer.stats.instrumentationErrors++;
      }
    }
    return result;
  };
  Object.defineProperty(wrapper, 'name', { value: original.name });
  Object.defineProperty(wrapper, 'length', { value: original.length });
  return wrapper;
}

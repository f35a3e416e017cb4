import { builtinShared } from './builtin-shared.js';
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

/** A wrapper put in place of a call maker, and how to let go of the installation it traces for. */
interface InstalledWrapper<R> {
  readonly wrapper: Callable<R>;
  /**
   * Drops the wrapper's hold on the installation (its tracer and everything the tracer holds), for a wrapper that
   * cannot be taken out because someone wrapped on top of it (a mocking library). It then passes each call to the
   * live installation, if any, so that a mock restoring what it found (this wrapper) does not end tracing.
   */
  release(): void;
}

/**
 * Wraps a function that makes an outgoing call (`http.request`, an HTTP/2 session's `request`): each call goes
 * through `tracing` (`tracedRun`). `target` names what is wrapped (`http.request`) for `builtinShared.callThrough`.
 */
function wrapCallMaker<R>(original: Callable<R>, tracing: TracedRun<R>, target: string): InstalledWrapper<R> {
  let run: TracedRun<R> | undefined = tracing;
  const wrapper = function traced(this: unknown, ...args: unknown[]): R {
    if (run !== undefined) return run(original, this, args);
    const through = builtinShared.callThrough;
    return through === undefined
      ? original.apply(this, args)
      : (through(target, original as Callable<unknown>, this, args) as R);
  };
  Object.defineProperty(wrapper, 'name', { value: original.name });
  Object.defineProperty(wrapper, 'length', { value: original.length });
  return {
    wrapper,
    release() {
      run = undefined;
      builtinShared.releasedWrappers.set(wrapper, original);
    },
  };
}

/**
 * How one layer traces the calls of a call maker. `prepare` decides whether a call is traced and returns the
 * arguments with its headers; `track` watches what the call maker returned. While it runs, `guard.inside` is set: a
 * library that routes one call through another wrapped function of the same layer (`get` through `request`) must
 * not trace the same call twice, nor must a released wrapper of an earlier installation under it, which passes its
 * calls here.
 */
export interface CallTracing<R> {
  readonly state: OutgoingState;
  readonly guard: NestingGuard;
  prepare(self: unknown, args: unknown[]): PreparedCall | undefined;
  track(result: R, call: ClientCall): void;
}

/**
 * Puts a wrapper of `holder[key]` (`http.request`, an HTTP/2 session prototype's `request`) in its place, each call
 * traced as `tracing` says, and registers that tracing under `target` in `runs`. Returns the undo: our wrapper out
 * again, or, where someone wrapped on top of it since (a mocking library), left in place and released.
 */
export function wrapInPlace<R>(
  holder: Record<string, unknown>,
  key: string,
  target: string,
  tracing: CallTracing<R>,
  runs: TracedRuns,
): () => void {
  const original = unwrapReleased(holder[key] as Callable<unknown>);
  const run = tracedRun(tracing) as TracedRun<unknown>;
  runs.set(target, run);
  const { wrapper, release } = wrapCallMaker(original, run, target);
  holder[key] = wrapper;
  return () => {
    if (holder[key] === wrapper) holder[key] = original;
    else release();
  };
}

/**
 * What `current` wraps, past wrappers of ours that were released: a mock restored one of them after tracing was
 * uninstalled, and installing again over it would otherwise add a layer per configure-and-restore cycle.
 */
function unwrapReleased<F extends object>(current: F): F {
  let unwrapped: object = current;
  for (let next = builtinShared.releasedWrappers.get(unwrapped); next !== undefined; ) {
    unwrapped = next;
    next = builtinShared.releasedWrappers.get(unwrapped);
  }
  return unwrapped as F;
}

/** Traces one call through `original`: what a live installation's wrapper does, also for wrappers passing on. */
type TracedRun<R> = (original: Callable<R>, self: unknown, args: unknown[]) => R;

/** An installation's runs by wrapped target (`http.request`), for `builtinShared.callThrough`. */
export type TracedRuns = Map<string, TracedRun<unknown>>;

/**
 * Instrumentation failures are counted and the call goes out as the caller made it; what `original` throws reaches
 * the caller unchanged.
 */
function tracedRun<R>({ state, guard, prepare, track }: CallTracing<R>): TracedRun<R> {
  return (original, self, args) => {
    // Suppressed calls (the exporters' own) skip even reading their arguments: one batch's POST each time.
    if (guard.inside || !state.active || isTracingSuppressed()) return original.apply(self, args);
    let call: ClientCall | undefined;
    try {
      const prepared = prepare(self, args);
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
      result = original.apply(self, args);
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
}

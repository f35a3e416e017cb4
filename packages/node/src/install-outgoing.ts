import { builtinShared, type CallThrough } from './builtin-shared.js';
import { subscribeUndici } from './outgoing-fetch.js';
import { installHttp } from './outgoing-http.js';
import { installHttp2 } from './outgoing-http2.js';
import { type OutgoingOptions, resolveOutgoingOptions } from './outgoing-options.js';
import { createOutgoingState } from './outgoing-span.js';
import type { TracedRuns } from './outgoing-wrap.js';
import type { Tracer } from './tracer.js';

/**
 * Propagates the active trace on every outgoing `fetch`, `undici`, `http`, `https` and `http2` call (gRPC
 * included) and records a client span for each. Options are validated here (TypeError/RangeError naming the
 * option). One installation is live at a time: installing again (a new `configure()`) first undoes the previous
 * one. Returns the uninstall function, which restores the original `request`/`get` functions and HTTP/2 sessions'
 * `request`, and unsubscribes; calling it twice is harmless.
 */
export function installOutgoing(tracer: Tracer, options?: OutgoingOptions): () => void {
  const resolved = resolveOutgoingOptions(options);
  // One live installation per process, whichever copy of the package made it (builtin-shared.ts).
  builtinShared.uninstallOutgoing?.();
  const state = createOutgoingState(tracer, resolved);
  const runs: TracedRuns = new Map();
  const undoFetch = subscribeUndici(state);
  const undoHttp = installHttp(state, undefined, runs);
  const undoHttp2 = installHttp2(state, runs);
  // A wrapper of an earlier installation left under a mock's (uninstalled, so released) passes its calls here.
  const callThrough: CallThrough = (target, original, self, args) => {
    const run = runs.get(target);
    return run === undefined ? original.apply(self, args) : run(original, self, args);
  };
  builtinShared.callThrough = callThrough;
  let done = false;
  const uninstall = (): void => {
    if (done) return;
    done = true;
    state.active = false;
    undoFetch();
    undoHttp();
    undoHttp2();
    if (builtinShared.uninstallOutgoing === uninstall) builtinShared.uninstallOutgoing = undefined;
    if (builtinShared.callThrough === callThrough) builtinShared.callThrough = undefined;
  };
  builtinShared.uninstallOutgoing = uninstall;
  return uninstall;
}

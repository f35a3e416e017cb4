import { subscribeUndici } from './outgoing-fetch.js';
import { installHttp } from './outgoing-http.js';
import { installHttp2 } from './outgoing-http2.js';
import { type OutgoingOptions, resolveOutgoingOptions } from './outgoing-options.js';
import { createOutgoingState } from './outgoing-span.js';
import { processShared } from './process-shared.js';
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
  // One live installation per process, whichever copy of the package made it (process-shared.ts).
  processShared.uninstallOutgoing?.();
  const state = createOutgoingState(tracer, resolved);
  const undoFetch = subscribeUndici(state);
  const undoHttp = installHttp(state);
  const undoHttp2 = installHttp2(state);
  let done = false;
  const uninstall = (): void => {
    if (done) return;
    done = true;
    state.active = false;
    undoFetch();
    undoHttp();
    undoHttp2();
    if (processShared.uninstallOutgoing === uninstall) processShared.uninstallOutgoing = undefined;
  };
  processShared.uninstallOutgoing = uninstall;
  return uninstall;
}

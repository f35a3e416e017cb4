import { isMainThread } from 'node:worker_threads';
import { workersExited } from './cluster-workers.js';
import { markExiting, runExitFlush } from './exit-state.js';
import { watchSelfSignals } from './self-signal-watch.js';
import type { Tracer } from './tracer.js';

export interface ShutdownHookOptions {
  /** How long a signal waits for the flush before the process goes on exiting. */
  timeoutMillis: number;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * How long a signal the process sends itself may take to reach our listener: it comes on a later turn of the event
 * loop, and Node's signal handles keep no loop alive.
 */
const SELF_SIGNAL_HOLD_MS = 1000;

/**
 * Flushes on `beforeExit`, SIGTERM and SIGINT without changing how the app exits.
 *
 * A listener on SIGTERM/SIGINT switches off Node's default "terminate" action, so: when the app has its own
 * listener for the signal it owns the exit; we take our listener for that signal off and only flush. When we are the only
 * listener we shut the tracer down (within the deadline), remove our listeners and send the signal again, so the
 * process ends exactly as it would have without us (killed by that signal). Code that ends the process by sending
 * the signal again itself once it has taken its own listener off (NestJS's `enableShutdownHooks()` and terminus
 * after their cleanup, signal-exit at once) finds ours back for that one (self-signal-watch.ts), alone: the same
 * shutdown then runs before the signal takes effect. A signal sent from outside after the app's listener went (a
 * second Ctrl-C) still meets Node's default action at once. Signals reach only the main thread, so a worker thread
 * gets the `beforeExit` hook alone. Returns the uninstall function; the tracer calls it on shutdown.
 */
export function installShutdownHooks(tracer: Tracer, options: ShutdownHookOptions): () => void {
  const { timeoutMillis } = options;
  let flushedAt = -1;
  // True from a signal we answer alone until its flush ends: our listener stays in place meanwhile.
  let exiting = false;
  let installed = true;
  let unwatchSelfSignals: (() => void) | undefined;
  let selfSignalHold: NodeJS.Timeout | undefined;

  const onBeforeExit = (): void => {
    // beforeExit fires again once the flush's own sockets close; flushing only when spans ended since the last
    // flush makes the second one a no-op, so the process exits instead of looping.
    const ended = tracer.stats.spansEnded;
    if (ended === flushedAt) return;
    flushedAt = ended;
    markExiting();
    // The deadline holds the process (the exporter's connections do not): at most `timeoutMillis`, even when the
    // collector accepts the connection and never answers.
    void runExitFlush(timeoutMillis, () => tracer.flushUnheld(), true);
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    releaseSelfSignalHold();
    markExiting();
    if (exiting) {
      // A second signal during our flush (a second Ctrl-C) ends the process at once.
      installed = false;
      unwatchSelfSignals?.();
      removeSignalListeners();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      return;
    }
    if (process.listenerCount(signal) > 1) {
      // Someone else owns the exit, and may decide it by counting listeners: signal-exit (under execa,
      // write-file-atomic, ink...) sends the signal again only when its own are the only ones, so with ours left in
      // place each would wait for the other and the process would never end. Node's emit already copied the
      // listener list, so the others still run for this signal; from now on they see what they would without us,
      // and a second signal goes to them alone. `beforeExit` still flushes what ends while the app drains.
      // Only for this signal: one the app does not listen for (SIGINT beside its SIGTERM handler) stays ours.
      process.off(signal, onSignal);
      void runExitFlush(timeoutMillis, () => tracer.flushUnheld());
      // With no listener left, Node closes its signal handle: a signal the app sends itself after its cleanup would
      // kill the process at once, before any flush is out, losing the requests that ended during the drain.
      unwatchSelfSignals ??= watchSelfSignals(SIGNALS, onSelfSignal);
      return;
    }
    // Our listener stays until the flush ends (shutdown()'s uninstall leaves it): tsx hides its own listener from
    // listenerCount and exits the process once it counts none left, from the same emit. A cluster primary also
    // waits for its workers, whom a Ctrl-C signalled too (cluster-workers.ts). The deadline timer is ref'd: it must
    // fire even if nothing else keeps the loop alive.
    exiting = true;
    const flushed = runExitFlush(
      timeoutMillis,
      () => Promise.all([tracer.shutdown(), workersExited()]),
      true,
    );
    void flushed.then(() => {
      exiting = false;
      uninstall();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };

  // The app sends the signal again after its cleanup: our listener is back for it, and the process is held until it
  // runs. An app that closed everything first (terminus once its server closed) would otherwise see its event loop
  // end, and exit with 0 instead of dying by the signal, before our listener ran its shutdown.
  function onSelfSignal(): void {
    addSignalListeners();
    selfSignalHold ??= setTimeout(releaseSelfSignalHold, SELF_SIGNAL_HOLD_MS);
  }

  function releaseSelfSignalHold(): void {
    if (selfSignalHold === undefined) return;
    clearTimeout(selfSignalHold);
    selfSignalHold = undefined;
  }

  function removeSignalListeners(): void {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }

  // Prepended, so ours runs first and still sees an app listener added with `once()` before us: Node removes a
  // `once` listener just before calling it, and a listener after it would count it gone and kill the process.
  function addSignalListeners(): void {
    if (!installed) return;
    for (const signal of SIGNALS) {
      if (!process.listeners(signal).includes(onSignal)) process.prependListener(signal, onSignal);
    }
  }

  function uninstall(): void {
    installed = false;
    releaseSelfSignalHold();
    unwatchSelfSignals?.();
    process.off('beforeExit', onBeforeExit);
    if (!exiting) removeSignalListeners();
  }

  process.on('beforeExit', onBeforeExit);
  // Node delivers signals to the main thread only; a listener in a worker thread would never run.
  if (isMainThread) addSignalListeners();
  return uninstall;
}

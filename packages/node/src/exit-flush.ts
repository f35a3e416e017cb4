import { type ActiveRequest, getActiveContext } from './context.js';
import { errorTypeOrOther } from './error-type.js';
import { exitDeliveryBudget, markExiting } from './exit-state.js';
import { SpanStatusCode } from './span-data.js';
import type { Tracer } from './tracer.js';

export interface ExitFlushOptions {
  /** How long the exit waits for the last spans to be delivered. */
  timeoutMillis: number;
}

/** Requests an uncaught exception the app's own handler took was recorded on, kept to end them at the exit. */
const MAX_FAILED_REQUESTS = 16;

/**
 * The exits that skip `beforeExit`, where the event loop never turns again: `process.exit()` (an app's shutdown
 * handler, a CLI), and an uncaught exception or unhandled rejection that ends the process. Spans still queued were
 * lost there, and so was the span of the request whose code crashed the process: the one trace worth having.
 *
 * On such an exit the request that threw gets the exception on its span, which ends (failed) along with every other
 * span still open, and what is queued is delivered synchronously within `timeoutMillis` (`Tracer#exportAtExit`).
 * Only listeners that change nothing are added: `uncaughtExceptionMonitor` runs before Node's own handling and
 * `exit` after the decision to exit, so the process prints the same error and ends with the same code as without
 * tracewire, only later. When the app has its own `uncaughtException` listener the process may live on: the error
 * is only recorded on the request's span, and the span ends with its response, or at the exit the app chooses.
 */
export function installExitFlush(tracer: Tracer, options: ExitFlushOptions): () => void {
  let flushed = false;
  const failedRequests: { request: ActiveRequest; error: unknown }[] = [];

  const exportNow = (): void => {
    if (flushed) return;
    flushed = true;
    markExiting();
    for (const { request, error } of failedRequests) request.abandon(error);
    tracer.exportAtExit(exitDeliveryBudget(options.timeoutMillis));
  };

  const onUncaught = (error: unknown): void => {
    try {
      const context = getActiveContext();
      const request = context?.requestContext?.request;
      if (processSurvives()) {
        if (request === undefined) return;
        request.recordError(error);
        // Those whose response has ended since need nothing more at the exit, and must not be held till then.
        for (let i = failedRequests.length - 1; i >= 0; i--)
          if (failedRequests[i]!.request.ended) failedRequests.splice(i, 1);
        if (failedRequests.length >= MAX_FAILED_REQUESTS) failedRequests.shift();
        failedRequests.push({ request, error });
        return;
      }
      // A span the app started inside the request (`startActiveSpan`) is where the code threw; it ends here too.
      const span = context?.span;
      if (span !== undefined && span !== request?.span && span.isRecording()) {
        span.recordException(error);
        span.setAttribute('error.type', errorTypeOrOther(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      request?.abandon(error);
      exportNow();
    } catch {
      tracer.stats.instrumentationErrors++;
    }
  };

  const onExit = (): void => {
    try {
      exportNow();
    } catch {
      tracer.stats.instrumentationErrors++;
    }
  };

  process.on('uncaughtExceptionMonitor', onUncaught);
  process.on('exit', onExit);
  return () => {
    process.off('uncaughtExceptionMonitor', onUncaught);
    process.off('exit', onExit);
  };
}

/** Whether Node hands an uncaught exception to the app rather than ending the process with it. */
function processSurvives(): boolean {
  return process.listenerCount('uncaughtException') > 0 || process.hasUncaughtExceptionCaptureCallback();
}

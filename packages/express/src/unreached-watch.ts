import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { ServerTracing } from '@tracewire/node';
import { checkRegistrationOrderOnce } from './registration-order.js';
import { appStack, isTracingLayer } from './router-stack.js';

const FINISH = 'http.server.response.finish';
/** Untraced responses looked at before giving up: a process may run other servers that never reach the middleware. */
const MAX_CHECKS = 1000;

/**
 * Until a response finishes traced, looks at those that finished untraced: when the request's app has `middleware`
 * further down its stack, everything ahead answered before it (NestJS's `app.init()` registers its routes and a
 * catch-all not-found handler, so `app.use(tracing())` after it is never reached), and the order check that a
 * traced request would run, runs there. The middleware itself is left untouched: Express's cost per request moves
 * with every line in it (index.ts).
 */
export function watchUnreachedMiddleware(middleware: unknown): void {
  let checks = 0;
  const onFinish = (message: unknown): void => {
    try {
      const request = (message as { request?: IncomingMessage }).request;
      if (request === undefined) return;
      // Traced: the middleware (or another copy of it) is reached, and checks the order itself.
      if (ServerTracing.current(request) !== undefined) {
        stop();
        return;
      }
      const app = (request as { app?: unknown }).app;
      const stack = appStack(app) as { handle?: unknown }[] | undefined;
      if (stack?.some((layer) => isTracingLayer(layer, middleware))) {
        checkRegistrationOrderOnce(app, middleware);
        stop();
      } else if (++checks >= MAX_CHECKS) {
        stop();
      }
    } catch {
      stop();
    }
  };
  let watching = true;
  const stop = (): void => {
    if (!watching) return;
    watching = false;
    diagnosticsChannel.unsubscribe(FINISH, onFinish);
  };
  diagnosticsChannel.subscribe(FINISH, onFinish);
}

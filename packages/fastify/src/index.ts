import { createServerTracing, runInContext, ServerTracing, type ServerTracingOptions } from '@tracewire/node';
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import fp from 'fastify-plugin';

export type { ServerTracingOptions as TracingOptions } from '@tracewire/node';

// Keys Fastify itself reads from any plugin's options; they are not ours to validate.
const FASTIFY_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

function ownOptions(options: ServerTracingOptions | undefined): ServerTracingOptions {
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options ?? {})) if (!FASTIFY_KEYS.has(key)) own[key] = value;
  return own as ServerTracingOptions;
}

/** `routeOptions.url` since Fastify 4.10 (full path, plugin prefixes included); `routerPath` before. */
function routeOf(request: FastifyRequest): string | undefined {
  if (request.is404 === true) return undefined;
  const legacy = request as { routerPath?: string };
  return request.routeOptions?.url ?? legacy.routerPath;
}

// Body parsing resumes from the socket's 'data'/'end' events, which run outside the context entered at
// onRequest; entering it again before validation and the handler keeps it active for them and for user hooks.
function reenter(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const trace = ServerTracing.current(request.raw);
  if (trace === undefined) done();
  else runInContext(trace.context, done);
}

function onError(request: FastifyRequest, _reply: FastifyReply, error: Error, done: () => void): void {
  ServerTracing.current(request.raw)?.recordError(error);
  done();
}

// The timeout fires from the socket, outside the request's context; entering it before `done` lets the app's own
// onTimeout hooks (run from `done`) see the span. Costs nothing until a request times out.
function onTimeout(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const trace = ServerTracing.current(request.raw);
  if (trace === undefined) {
    done();
    return;
  }
  trace.markTimedOut();
  runInContext(trace.context, done);
}

/**
 * fastify-plugin lets this plugin's hooks reach the instance it is registered on and that instance's children, not
 * its parents. Registered inside an encapsulated plugin (one not wrapped with fastify-plugin, say under
 * `@fastify/autoload`), the routes outside it still get spans, which start server-wide, but unnamed and without
 * their errors. Fastify's root instance is a plain object; each encapsulated child is made from its parent with
 * `Object.create`.
 */
function warnIfEncapsulated(fastify: FastifyInstance): void {
  if (Object.getPrototypeOf(fastify) === Object.prototype) return;
  const prefix =
    typeof fastify.prefix === 'string' && fastify.prefix.length > 0 ? ` (prefix ${fastify.prefix})` : '';
  process.emitWarning(
    `@tracewire/fastify is registered inside an encapsulated plugin${prefix}: requests to routes outside it are ` +
      'traced without their route names and errors. Register it on the root instance, or wrap the plugins around ' +
      'it with fastify-plugin.',
    { type: 'TracewireWarning', code: 'TRACEWIRE_FASTIFY_ENCAPSULATED' },
  );
}

function plugin(
  fastify: FastifyInstance,
  options: ServerTracingOptions,
  done: (error?: Error) => void,
): void {
  let server: ServerTracing;
  try {
    server = createServerTracing(ownOptions(options));
  } catch (error) {
    done(error as Error);
    return;
  }
  warnIfEncapsulated(fastify);
  // Spans start as the server emits each request, ahead of onRequest hooks added before this plugin (NestJS's
  // middleware, @fastify/cors, rate limiters, auth), which may answer or call out. Requests Fastify gets another
  // way (`inject`, a WebSocket handshake) start here, with the route already known.
  const stopEmitWatch = server.startOnEmit(fastify.server);
  fastify.addHook('onClose', (_instance, closed) => {
    stopEmitWatch();
    closed();
  });
  fastify.addHook('onRequest', (request, reply, next) => {
    const raw = request.raw;
    let trace = ServerTracing.current(raw);
    if (trace === undefined) {
      trace = server.start(raw, reply.raw, routeOf(request));
      if (trace === undefined) return next();
    } else {
      trace.setRoute(routeOf(request));
    }
    // Fastify keeps reply headers to itself until writeHead, out of ServerResponse#getHeader's sight.
    trace.readResponseHeadersFrom(reply);
    // A stream payload that fails after the headers skips onError (Fastify logs it and destroys the response);
    // the server span reads the piped stream's error at close instead of adding an onSend hook.
    runInContext(trace.context, next);
  });
  fastify.addHook('preValidation', reenter);
  fastify.addHook('preHandler', reenter);
  fastify.addHook('onError', onError);
  // Client aborts (onRequestAbort) need no hook: the response's 'close' before 'finish' ends the span.
  fastify.addHook('onTimeout', onTimeout);
  done();
}

/**
 * `app.register(tracing)` (or `app.register(tracing, options)`): one SERVER span per request, for the whole app
 * including encapsulated plugins, active in the handler and in every hook, those added before this one included.
 */
export const tracing: FastifyPluginCallback<ServerTracingOptions> = fp(plugin, {
  fastify: '4.x || 5.x',
  name: '@tracewire/fastify',
});

/** The same as `tracing`, for `import tracing from '@tracewire/fastify'`, as the ecosystem's middleware and plugins are imported. */
export default tracing;

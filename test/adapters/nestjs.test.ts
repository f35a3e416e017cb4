import 'reflect-metadata';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  Get,
  type INestApplication,
  type MiddlewareConsumer,
  Module,
  NotFoundException,
  Param,
  type Type,
  UseGuards,
  Version,
  VersioningType,
} from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import {
  configure,
  getActiveSpan,
  InMemoryExporter,
  type ReadableSpan,
  ServerTracing,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectRouteOrderWarnings, listen, type TestApp, waitFor } from './apps.js';

// What the "## NestJS" sections of the Express and Fastify READMEs promise, checked against Nest 11 itself. Nest owns
// the order things are registered in (routes and its not-found handler at app.init(), @fastify/middie's hooks at
// NestFactory.create) and answers handler exceptions before the framework sees them, so each case is a way a user's
// Nest app lost or misnamed spans.
//
// Decorators are applied as plain calls: vitest's esbuild transform emits no decorator metadata, and none of this
// needs it (no constructor injection).

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'nestjs',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());

const warnings = collectRouteOrderWarnings();
beforeEach(() => exporter.reset());

/** Apps started by a test; closed after it whether or not it passed. */
const running: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()));
});

function decorateMethod(decorator: MethodDecorator, target: object, key: string): void {
  decorator(target, key, Object.getOwnPropertyDescriptor(target, key)!);
}

/** The span active in the guard and the middleware: the README says both run inside the request's trace. */
const seen: { guard?: string; middleware?: string } = {};
const activeSpanId = () => getActiveSpan()?.spanContext().spanId;

class UsersController {
  get(id: string) {
    return { id };
  }
}
Controller('users')(UsersController);
decorateMethod(Get(':id'), UsersController.prototype, 'get');
Param('id')(UsersController.prototype, 'get', 0);

/** The same route, versioned: with URI versioning and a global prefix Nest registers it as /api/v1/users/:id. */
class VersionedUsersController {
  get(id: string) {
    return { id, version: 1 };
  }
}
Controller('users')(VersionedUsersController);
decorateMethod(Get(':id'), VersionedUsersController.prototype, 'get');
decorateMethod(Version('1'), VersionedUsersController.prototype, 'get');
Param('id')(VersionedUsersController.prototype, 'get', 0);

class ErrorsController {
  boom(): never {
    throw new Error('boom');
  }
  missing(): never {
    throw new NotFoundException();
  }
}
Controller('errors')(ErrorsController);
decorateMethod(Get('boom'), ErrorsController.prototype, 'boom');
decorateMethod(Get('missing'), ErrorsController.prototype, 'missing');

/** The README's filter, as written there. */
class TracingExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    ServerTracing.active()?.recordError(exception); // the request's trace: exception event and error.type
    super.catch(exception, host);
  }
}
Catch()(TracingExceptionFilter);

class VersionedModule {}
Module({ controllers: [VersionedUsersController] })(VersionedModule);

class UsersModule {}
Module({ controllers: [UsersController] })(UsersModule);

class ErrorsModule {}
Module({ controllers: [ErrorsController] })(ErrorsModule);

/** Where AuthMiddleware calls out; set per test. */
let downstreamUrl = '';

/** An auth middleware: answers 401 itself, or checks the caller with another service first. */
class AuthMiddleware {
  async use(req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> {
    seen.middleware = activeSpanId();
    if (req.headers.authorization === undefined) {
      res.statusCode = 401;
      res.end('unauthorized');
      return;
    }
    await (await fetch(downstreamUrl)).text();
    next();
  }
}

class RecordingGuard {
  canActivate(): boolean {
    seen.guard = activeSpanId();
    return true;
  }
}

class GuardedUsersController {
  get(id: string) {
    return { id };
  }
}
Controller('users')(GuardedUsersController);
decorateMethod(Get(':id'), GuardedUsersController.prototype, 'get');
decorateMethod(UseGuards(RecordingGuard), GuardedUsersController.prototype, 'get');
Param('id')(GuardedUsersController.prototype, 'get', 0);

class AuthModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AuthMiddleware).forRoutes('*');
  }
}
Module({ controllers: [GuardedUsersController] })(AuthModule);

async function start(app: INestApplication): Promise<string> {
  running.push(app);
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

async function get(url: string, headers?: Record<string, string>): Promise<number> {
  const response = await fetch(url, headers === undefined ? undefined : { headers });
  await response.text();
  return response.status;
}

const serverSpans = () => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);

/** Waits for `count` SERVER spans: a span ends as the response closes, which can be after the client has it. */
function waitForServerSpans(count: number): Promise<ReadableSpan[]> {
  return waitFor(() => {
    const spans = serverSpans();
    return spans.length >= count ? spans : undefined;
  }, `${count} server spans`);
}

const exceptionEvents = (span: ReadableSpan) => span.events.filter((e) => e.name === 'exception');

const createExpress = (module: Type) => NestFactory.create(module, { logger: false });
const createFastify = (module: Type) =>
  NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { logger: false });

describe('NestJS on Express', () => {
  it('names the span with the global prefix and URI version when app.use(tracing()) follows NestFactory.create', async () => {
    const app = await createExpress(VersionedModule);
    app.use(expressTracing());
    app.setGlobalPrefix('api');
    app.enableVersioning({ type: VersioningType.URI });
    const base = await start(app);

    expect(await get(`${base}/api/v1/users/42`)).toBe(200);
    const [span] = await waitForServerSpans(1);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span?.name).toBe('GET /api/v1/users/:id');
    expect(span?.attributes['http.route']).toBe('/api/v1/users/:id');
    expect(span?.attributes['http.response.status_code']).toBe(200);
  });

  it('warns, naming the routes, when app.init() ran before app.use(tracing()) and so nothing is traced', async () => {
    const app = await createExpress(UsersModule);
    await app.init();
    // Nest's routes and its catch-all not-found handler are in place now: no request reaches this middleware.
    app.use(expressTracing());
    const base = await start(app);

    expect(await get(`${base}/users/42`)).toBe(200);
    expect(await get(`${base}/users/43`)).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(warnings.map((w) => w.message)).toEqual([
      'app.use(tracing()) comes after 1 route (GET /users/:id); requests answered there are not traced. Add it ' +
        'before your routes; its ignore option leaves paths untraced on purpose.',
    ]);
  });
});

describe.each([
  ['Express', (module: Type) => createExpress(module), (app: INestApplication) => app.use(expressTracing())],
  [
    'Fastify',
    (module: Type) => createFastify(module),
    (app: INestApplication) => (app as NestFastifyApplication).register(fastifyTracing as never),
  ],
])('NestJS on %s, a handler that throws', (_name, create, addTracing) => {
  async function startErrors(withFilter: boolean): Promise<string> {
    const app = await create(ErrorsModule);
    await addTracing(app);
    if (withFilter) app.useGlobalFilters(new TracingExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
    return start(app);
  }

  it('without a filter: a 5xx span has error.type set to the status code but no exception event', async () => {
    const base = await startErrors(false);
    expect(await get(`${base}/errors/boom`)).toBe(500);
    expect(await get(`${base}/errors/missing`)).toBe(404);
    const [boom, missing] = await waitForServerSpans(2);
    expect(boom?.name).toBe('GET /errors/boom');
    expect(boom?.status.code).toBe(SpanStatusCode.ERROR);
    expect(boom?.attributes['error.type']).toBe('500');
    expect(boom && exceptionEvents(boom)).toEqual([]);
    expect(missing?.status.code).toBe(SpanStatusCode.UNSET);
    expect(missing?.attributes['error.type']).toBeUndefined();
  });

  it("with the README's TracingExceptionFilter: the exception is on the span, and a 4xx stays unset", async () => {
    const base = await startErrors(true);
    expect(await get(`${base}/errors/boom`)).toBe(500);
    expect(await get(`${base}/errors/missing`)).toBe(404);
    const [boom, missing] = await waitForServerSpans(2);
    expect(boom?.name).toBe('GET /errors/boom');
    expect(boom?.status.code).toBe(SpanStatusCode.ERROR);
    expect(boom?.attributes['error.type']).toBe('Error');
    expect(boom && exceptionEvents(boom).map((e) => e.attributes)).toEqual([
      expect.objectContaining({ 'exception.type': 'Error', 'exception.message': 'boom' }),
    ]);
    expect(missing?.name).toBe('GET /errors/missing');
    expect(missing?.attributes['http.response.status_code']).toBe(404);
    expect(missing?.status.code).toBe(SpanStatusCode.UNSET);
    expect(missing?.attributes['error.type']).toBeUndefined();
    expect(missing && exceptionEvents(missing).map((e) => e.attributes?.['exception.type'])).toEqual([
      'NotFoundException',
    ]);
  });
});

describe('NestJS on Fastify, with Nest middleware', () => {
  let downstream: TestApp | undefined;
  const received: (string | undefined)[] = [];
  beforeEach(async () => {
    received.length = 0;
    delete seen.guard;
    delete seen.middleware;
    downstream = await listen(
      createServer((req, res) => {
        received.push(req.headers.traceparent as string | undefined);
        res.end('ok');
      }),
    );
    downstreamUrl = `${downstream.url}/check`;
  });
  afterEach(async () => {
    await downstream?.close();
  });

  /**
   * Nest adds @fastify/middie's onRequest hooks at NestFactory.create, so the middleware runs ahead of any hook the
   * plugin adds: the 401 it answers, and its call out, are traced only because the span starts before the hooks.
   */
  async function checkMiddlewareTraced(base: string): Promise<void> {
    expect(await get(`${base}/users/42`)).toBe(401);
    const [denied] = await waitForServerSpans(1);
    expect(denied?.attributes['http.response.status_code']).toBe(401);
    // Unnamed, as the README's Hooks section says: the plugin's own onRequest hook, which names it, never ran.
    expect(denied?.name).toBe('GET');
    expect(seen.middleware).toBe(denied?.spanContext().spanId);

    exporter.reset();
    expect(await get(`${base}/users/42`, { authorization: 'Bearer t' })).toBe(200);
    const [allowed] = await waitForServerSpans(1);
    expect(allowed?.name).toBe('GET /users/:id');
    expect(allowed?.attributes['http.route']).toBe('/users/:id');
    expect(seen.guard).toBe(allowed?.spanContext().spanId);
    const clients = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients).toHaveLength(1);
    const client = clients[0]!;
    expect(client.spanContext().traceId).toBe(allowed?.spanContext().traceId);
    expect(client.parentSpanId).toBe(allowed?.spanContext().spanId);
    expect(received).toEqual([`00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`]);
  }

  it('traces a middleware that answers 401 or calls out, with app.register(tracing) after NestFactory.create', async () => {
    const app = await createFastify(AuthModule);
    await app.register(fastifyTracing as never);
    await checkMiddlewareTraced(await start(app));
  });

  it('still traces, routes named, when app.init() ran before app.register(tracing)', async () => {
    const app = await createFastify(AuthModule);
    await app.init();
    await app.register(fastifyTracing as never);
    await checkMiddlewareTraced(await start(app));
  });
});

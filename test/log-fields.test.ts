import { Writable } from 'node:stream';
import { tracing } from '@tracewire/fastify';
import {
  configure,
  InMemoryExporter,
  logFields,
  SimpleSpanProcessor,
  traceIdRatio,
  withSpan,
} from '@tracewire/node';
import fastify from 'fastify';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

// A log line written while a request is handled carries the ids of the span it belongs to, under OpenTelemetry's
// names, so a log backend can link it to the trace: here through Fastify's own logger (pino) and its `mixin`.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'log-fields',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());
beforeEach(() => exporter.reset());

function appLoggingTo(lines: Record<string, unknown>[]) {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = fastify({ logger: { level: 'info', stream, mixin: logFields }, disableRequestLogging: true });
  app.register(tracing);
  app.get('/orders/:id', async (request) => {
    await new Promise((r) => setTimeout(r, 2));
    request.log.info('loaded order');
    return { id: (request.params as { id: string }).id };
  });
  return app;
}

describe('logFields', () => {
  it("puts the request's trace id, span id and flags into each log line written while it is handled", async () => {
    const lines: Record<string, unknown>[] = [];
    const app = appLoggingTo(lines);
    try {
      const response = await app.inject({
        url: '/orders/7',
        headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      });
      expect(response.statusCode).toBe(200);
      const serverSpan = exporter.getFinishedSpans()[0]!;
      const line = lines.find((l) => l['msg'] === 'loaded order');
      expect(line).toMatchObject({
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: serverSpan.spanContext().spanId,
        trace_flags: '01',
      });
      // Lines written outside any request carry no trace fields.
      app.log.info('outside');
      expect(Object.keys(lines.find((l) => l['msg'] === 'outside')!)).not.toContain('trace_id');
    } finally {
      await app.close();
    }
  });

  it('takes the fields of log calls made outside any request, as Fastify logs each request before its span', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    // Fastify's own request logging on (its default): `incoming request` is written with `{ req }`.
    const app = fastify({ logger: { level: 'info', stream, mixin: logFields } });
    app.register(tracing);
    app.get('/health', async () => 'ok');
    try {
      // Before: pino merged these fields into the one frozen `{}` logFields returned there, and threw.
      app.log.info({ port: 3000 }, 'listening');
      app.log.info({ port: 3001 }, 'listening again');
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
      expect(lines.filter((l) => l['msg'] === 'listening' || l['msg'] === 'listening again')).toMatchObject([
        { port: 3000 },
        { port: 3001 },
      ]);
      expect(lines.find((l) => l['msg'] === 'listening again')).not.toHaveProperty('trace_id');
      expect(lines.some((l) => l['msg'] === 'incoming request')).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('gives the ids of an unsampled span with flags 00, and nothing for an invalid context', () => {
    const unsampled = configure({
      serviceName: 'log-fields-unsampled',
      sampler: traceIdRatio(0),
      processors: [new SimpleSpanProcessor(exporter)],
      shutdownOnSignals: false,
    });
    const span = unsampled.startSpan('not recorded');
    withSpan(span, () => {
      expect(logFields()).toEqual({
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        trace_flags: '00',
      });
    });
    const disabled = configure({ serviceName: 'off', disabled: true, shutdownOnSignals: false });
    withSpan(disabled.startSpan('root with no ids'), () => expect(logFields()).toEqual({}));
    expect(logFields()).toEqual({});
  });
});

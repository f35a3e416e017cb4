import { createRequire } from 'node:module';
import { tracing } from '@tracewire/express';
import {
  configure,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import express from 'express';
import serverless from 'serverless-http';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

// Express on AWS Lambda: the serverless adapters turn an API Gateway event into a request and response made in
// memory, with a stand-in socket that never drains and, for @codegenie/serverless-express, a response that never
// emits 'close'. Each invocation is still one server span, ended when the handler answers, and not an abort.

const require = createRequire(import.meta.url);
type LambdaHandler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body?: string }>;
const serverlessExpress = require('@codegenie/serverless-express') as (options: {
  app: express.Express;
}) => LambdaHandler;

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'serverless',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());
beforeEach(() => exporter.reset());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

/** An API Gateway HTTP API (payload 2.0) event. */
function event(path: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {
      host: 'api.example.com',
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
      'user-agent': 'lambda-test',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'lambda-test' },
      requestId: 'request-1',
      routeKey: '$default',
      stage: '$default',
      time: '26/Nov/2026:15:00:00 +0000',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
  };
}

const context = { awsRequestId: 'request-1', getRemainingTimeInMillis: () => 3000 };

function app(): express.Express {
  const instance = express();
  instance.use(tracing());
  instance.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  instance.get('/boom', () => {
    throw new Error('boom');
  });
  return instance;
}

function serverSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
}

describe.each([
  ['serverless-http', () => serverless(app()) as unknown as LambdaHandler],
  ['@codegenie/serverless-express', () => serverlessExpress({ app: app() })],
])('%s', (_name, wrap) => {
  it('records each invocation as one server span, ended by the time the handler answers', async () => {
    const handler = wrap();
    const response = await handler(event('/users/42'), context);
    expect(response.statusCode).toBe(200);

    // Before: ERROR `aborted` (serverless-http), or never ended at all (@codegenie/serverless-express).
    const spans = serverSpans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe('GET /users/:id');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(200);
    expect(span.attributes['client.address']).toBe('203.0.113.7');
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanId).toBe(PARENT_ID);
  });

  it('records a handler that throws as an error, and leaves no span open over many invocations', async () => {
    const handler = wrap();
    expect((await handler(event('/boom'), context)).statusCode).toBe(500);
    expect(serverSpans()[0]?.status.code).toBe(SpanStatusCode.ERROR);

    const before = tracer.stats.snapshot();
    for (let i = 0; i < 50; i++) await handler(event(`/users/${i}`), context);
    const after = tracer.stats.snapshot();
    expect(after.spansEnded - before.spansEnded).toBe(50);
    expect(after.instrumentationErrors).toBe(before.instrumentationErrors);
  });
});

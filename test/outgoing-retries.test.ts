import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  configure,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import axios from 'axios';
import got from 'got';
import superagent from 'superagent';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// Libraries that retry or follow redirects send each attempt as its own node:http request: each is a client
// span of its own, child of the caller's span, and carries its own span id downstream.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'outgoing-retries',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});

const received: { path: string; traceparent: string | undefined }[] = [];
let failuresLeft = 0;
const server = http.createServer((req, res) => {
  received.push({ path: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
  if (req.url === '/flaky' && failuresLeft > 0) {
    failuresLeft--;
    res.statusCode = 503;
    res.end();
  } else if (req.url === '/moved') {
    res.writeHead(302, { location: '/target' }).end();
  } else {
    res.end('{"ok":true}');
  }
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await tracer.shutdown();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  exporter.reset();
  received.length = 0;
});

/** Runs `call` inside a parent span; resolves with the parent and the client spans, oldest first. */
async function traced(
  call: () => Promise<unknown>,
): Promise<{ parent: ReadableSpan; clients: ReadableSpan[] }> {
  await tracer.startActiveSpan('parent', async (span) => {
    await call();
    span.end();
  });
  await new Promise((r) => setTimeout(r, 20));
  const spans = exporter.getFinishedSpans();
  const parent = spans.find((s) => s.name === 'parent');
  if (parent === undefined) throw new Error('no parent span');
  const clients = spans.filter((s) => s.kind === SpanKind.CLIENT).sort((a, b) => a.startTime - b.startTime);
  return { parent, clients };
}

function expectOneSpanPerRequest(parent: ReadableSpan, clients: ReadableSpan[]): void {
  expect(clients).toHaveLength(received.length);
  clients.forEach((client, i) => {
    expect(client.parentSpanId).toBe(parent.spanContext().spanId);
    expect(client.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(received[i]?.traceparent).toBe(
      `00-${parent.spanContext().traceId}-${client.spanContext().spanId}-01`,
    );
  });
}

describe('got', () => {
  it('records each retry as a client span of its own', async () => {
    failuresLeft = 1;
    const { parent, clients } = await traced(() =>
      got(`${base}/flaky`, { retry: { limit: 2, backoffLimit: 10 } }).text(),
    );

    expect(received.map((r) => r.path)).toEqual(['/flaky', '/flaky']);
    expectOneSpanPerRequest(parent, clients);
    expect(clients.map((s) => s.attributes['http.response.status_code'])).toEqual([503, 200]);
    expect(clients.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
  });

  it('records each redirect hop as a client span of its own', async () => {
    const { parent, clients } = await traced(() => got(`${base}/moved`).text());

    expect(received.map((r) => r.path)).toEqual(['/moved', '/target']);
    expectOneSpanPerRequest(parent, clients);
    expect(clients.map((s) => s.attributes['url.full'])).toEqual([`${base}/moved`, `${base}/target`]);
  });
});

describe('axios', () => {
  it('records each redirect hop as a client span of its own', async () => {
    const { parent, clients } = await traced(() => axios.get(`${base}/moved`));

    expect(received.map((r) => r.path)).toEqual(['/moved', '/target']);
    expectOneSpanPerRequest(parent, clients);
    expect(clients.map((s) => s.attributes['http.response.status_code'])).toEqual([302, 200]);
  });
});

// superagent writes its own header list onto each request with setHeader after http.request returned it, and on a
// redirect carries the previous hop's headers over, traceparent included.
describe('superagent', () => {
  it('records each redirect hop as a client span of its own, each carrying its own span id', async () => {
    const { parent, clients } = await traced(() => superagent.get(`${base}/moved`));

    expect(received.map((r) => r.path)).toEqual(['/moved', '/target']);
    expectOneSpanPerRequest(parent, clients);
  });

  it("replaces a traceparent of the active trace set by hand with the client span's", async () => {
    const { parent, clients } = await traced(() =>
      tracer.startActiveSpan('inner', async (inner) => {
        const { traceId, spanId } = inner.spanContext();
        await superagent.get(`${base}/target`).set('traceparent', `00-${traceId}-${spanId}-01`);
        inner.end();
      }),
    );

    const inner = exporter.getFinishedSpans().find((s) => s.name === 'inner');
    expect(clients).toHaveLength(1);
    expect(clients[0]?.parentSpanId).toBe(inner?.spanContext().spanId);
    expect(received[0]?.traceparent).toBe(
      `00-${parent.spanContext().traceId}-${clients[0]?.spanContext().spanId}-01`,
    );
  });
});

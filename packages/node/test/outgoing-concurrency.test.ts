import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withSpan } from '../src/context.js';
import type { Span } from '../src/span.js';
import { SpanKind } from '../src/span-data.js';
import { type Harness, installHarness, parseTraceparent, waitForSpans } from './outgoing-harness.js';

const COUNT = 1000;

interface Listening {
  server: http.Server;
  port: number;
}

async function listen(handler: http.RequestListener): Promise<Listening> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', COUNT * 2, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function close({ server }: Listening): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

const outgoing: Record<string, (url: string) => Promise<unknown>> = {
  fetch: async (url) => (await fetch(url)).text(),
  'http.get': (url) =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent: new http.Agent({ keepAlive: false }) }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    }),
};

let servers: Listening[] = [];
let harness: Harness | undefined;
afterEach(async () => {
  harness?.uninstall();
  harness = undefined;
  await Promise.all(servers.map(close));
  servers = [];
});

describe.each(Object.keys(outgoing))('%s under 1000 concurrent incoming requests', (client) => {
  it("gives every downstream request the traceparent of its own request's client span", async () => {
    const h = installHarness();
    harness = h;
    const call = outgoing[client]!;

    // The downstream holds every answer until all requests are in, so all 1000 contexts are alive at once.
    const received = new Map<string, IncomingHttpHeaders>();
    const held: http.ServerResponse[] = [];
    const releaseAll = () => {
      for (const res of held.splice(0)) res.end('ok');
    };
    const failsafe = setTimeout(releaseAll, 15_000);
    const downstream = await listen((req, res) => {
      received.set(new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '', req.headers);
      held.push(res);
      if (received.size === COUNT) releaseAll();
    });
    servers.push(downstream);

    const incomingSpans = new Map<string, Span>();
    const incoming = await listen((req, res) => {
      const id = req.headers['x-request-id'] as string;
      const span = h.tracer.startSpan('incoming', { kind: SpanKind.SERVER, parent: null });
      incomingSpans.set(id, span);
      withSpan(span, async () => {
        // A hop through the event loop first, as a real handler would await a body or a database.
        await new Promise((resolve) => setImmediate(resolve));
        await call(`http://127.0.0.1:${downstream.port}/work?id=${id}`);
        span.end();
        res.end('done');
      }).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    servers.push(incoming);

    const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
    const statuses = await Promise.all(
      Array.from(
        { length: COUNT },
        (_, i) =>
          new Promise<number>((resolve, reject) => {
            http
              .get(
                {
                  host: '127.0.0.1',
                  port: incoming.port,
                  path: '/',
                  agent,
                  headers: { 'x-request-id': `${i}` },
                },
                (res) => {
                  res.resume();
                  res.on('end', () => resolve(res.statusCode ?? 0));
                },
              )
              .on('error', reject);
          }),
      ),
    );
    clearTimeout(failsafe);
    agent.destroy();
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(received.size).toBe(COUNT);

    await waitForSpans(h.spans, COUNT * 2);
    const clientSpans = new Map<string, (typeof h.spans)[number]>();
    for (const span of h.spans) {
      if (span.kind !== SpanKind.CLIENT) continue;
      const id = new URL(String(span.attributes['url.full'])).searchParams.get('id') ?? '';
      expect(clientSpans.has(id)).toBe(false);
      clientSpans.set(id, span);
    }
    expect(clientSpans.size).toBe(COUNT);

    let mismatches = 0;
    for (let i = 0; i < COUNT; i++) {
      const id = `${i}`;
      const header = parseTraceparent(received.get(id)?.traceparent);
      const clientSpan = clientSpans.get(id);
      const parent = incomingSpans.get(id)?.spanContext();
      const ok =
        clientSpan !== undefined &&
        parent !== undefined &&
        header.spanId === clientSpan.spanContext().spanId &&
        header.traceId === parent.traceId &&
        clientSpan.spanContext().traceId === parent.traceId &&
        clientSpan.parentSpanId === parent.spanId;
      if (!ok) mismatches++;
    }
    expect(mismatches).toBe(0);
    // Every incoming request started its own trace, so 1000 distinct trace ids reached the downstream.
    expect(new Set([...received.values()].map((h) => parseTraceparent(h.traceparent).traceId)).size).toBe(
      COUNT,
    );
  });
});

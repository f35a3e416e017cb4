import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types, shared with the demo
import { startOtlpReceiver } from '../../examples/otlp-receiver.mjs';
// @ts-expect-error plain ESM helper without types, shared with the demo
import { startServices } from '../../examples/start-services.mjs';
import type { ReceivedSpan } from '../interop/fixtures/otlp-spans.js';

// Three real processes (Express → Koa → Fastify) and an OTLP receiver on 127.0.0.1: every assertion below is about
// spans that crossed process boundaries on the wire, exactly as a collector would see them.

const OTLP_SERVER = 2;
const OTLP_CLIENT = 3;
const OTLP_INTERNAL = 1;
const OTLP_ERROR = 2;

type Format = 'tracecontext' | 'b3' | 'b3multi' | 'jaeger';

function incomingHeaders(format: Format, traceId: string): Record<string, string> {
  const spanId = randomBytes(8).toString('hex');
  switch (format) {
    case 'tracecontext':
      return { traceparent: `00-${traceId}-${spanId}-01` };
    case 'b3':
      return { b3: `${traceId}-${spanId}-1` };
    case 'b3multi':
      return { 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-sampled': '1' };
    case 'jaeger':
      return { 'uber-trace-id': `${traceId}:${spanId}:0:1` };
  }
}

function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error('timed out waiting for spans'));
      else setTimeout(poll, 50);
    };
    poll();
  });
}

describe.each<Format>(['tracecontext', 'b3', 'b3multi', 'jaeger'])('demo chain propagating %s', (format) => {
  let receiver: { url: string; spans: ReceivedSpan[]; close(): Promise<void> };
  let services: { gatewayUrl: string; stop(): Promise<void> };
  const traces = new Map<string, string>();

  async function request(path: string): Promise<number> {
    const traceId = randomBytes(16).toString('hex');
    traces.set(path, traceId);
    const response = await fetch(services.gatewayUrl + path, { headers: incomingHeaders(format, traceId) });
    await response.arrayBuffer();
    return response.status;
  }

  function spansOf(path: string): ReceivedSpan[] {
    const traceId = traces.get(path);
    return receiver.spans.filter((span) => span.traceId === traceId);
  }

  function child(spans: ReceivedSpan[], parent: ReceivedSpan, kind: number): ReceivedSpan[] {
    return spans.filter((span) => span.parentSpanId === parent.spanId && span.kind === kind);
  }

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    services = await startServices({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_PROPAGATORS: format,
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    });
    expect(await request('/api/orders/1')).toBe(200);
    expect(await request('/api/orders/3')).toBe(502);
    expect(await request('/api/products/sku-1')).toBe(200);
    // order 1: 6 spans (its warehouse lookup included), order 3: 5 (the warehouse is down before any lookup),
    // product: 1 server + 2 clients + 2 inventory servers + 1 warehouse lookup.
    await waitFor(() => receiver.spans.length >= 17);
  });

  afterAll(async () => {
    await services?.stop();
    await receiver?.close();
  });

  it('continues the incoming trace id through all three processes', () => {
    const spans = spansOf('/api/orders/1');
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['gateway', 'orders', 'inventory']));
    // A server span per service, a client span per hop, and the warehouse client's span in the inventory.
    expect(spans).toHaveLength(6);
  });

  it('links server → client → server across every hop, each span with its own service.name', () => {
    const spans = spansOf('/api/orders/1');
    const roots = spans.filter((span) => span.kind === OTLP_SERVER && span.service === 'gateway');
    expect(roots).toHaveLength(1);
    const gatewayServer = roots[0]!;
    expect(gatewayServer.name).toBe('GET /api/orders/:id');

    const [gatewayClient] = child(spans, gatewayServer, OTLP_CLIENT);
    expect(gatewayClient?.service).toBe('gateway');
    const [ordersServer] = child(spans, gatewayClient!, OTLP_SERVER);
    expect(ordersServer).toMatchObject({ service: 'orders', name: 'GET /orders/:id' });
    const [ordersClient] = child(spans, ordersServer!, OTLP_CLIENT);
    expect(ordersClient?.service).toBe('orders');
    const [inventoryServer] = child(spans, ordersClient!, OTLP_SERVER);
    expect(inventoryServer).toMatchObject({ service: 'inventory', name: 'GET /inventory/:sku' });
    // Started through @opentelemetry/api inside the handler.
    const [lookup] = child(spans, inventoryServer!, OTLP_INTERNAL);
    expect(lookup).toMatchObject({ service: 'inventory', name: 'warehouse lookup' });
  });

  it('marks the failing path as errors from the leaf up to the gateway', () => {
    const spans = spansOf('/api/orders/3');
    const byService = (service: string, kind: number) =>
      spans.find((span) => span.service === service && span.kind === kind);
    expect(byService('inventory', OTLP_SERVER)?.attributes['http.response.status_code']).toBe(503);
    expect(byService('inventory', OTLP_SERVER)?.statusCode).toBe(OTLP_ERROR);
    expect(byService('orders', OTLP_CLIENT)?.statusCode).toBe(OTLP_ERROR);
    expect(byService('orders', OTLP_SERVER)?.statusCode).toBe(OTLP_ERROR);
    expect(byService('gateway', OTLP_SERVER)?.statusCode).toBe(OTLP_ERROR);
  });

  it('records the parallel fan-out as two sibling client spans', () => {
    const spans = spansOf('/api/products/sku-1');
    const gatewayServer = spans.find((span) => span.kind === OTLP_SERVER && span.service === 'gateway')!;
    const clients = child(spans, gatewayServer, OTLP_CLIENT);
    expect(clients).toHaveLength(2);
    for (const client of clients) {
      expect(child(spans, client, OTLP_SERVER).map((span) => span.service)).toEqual(['inventory']);
    }
  });
});

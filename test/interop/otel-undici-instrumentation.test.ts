import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as api from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  Baggage,
  configure,
  InMemoryExporter,
  type OpenTelemetryApiRegistration,
  registerOpenTelemetryApi,
  runInContext,
  SimpleSpanProcessor,
  SpanKind,
  type Tracer,
  TraceState,
  withSpan,
} from '@tracewire/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

// A user moving off OpenTelemetry's Node SDK who keeps its undici instrumentation on (getNodeAutoInstrumentations()
// turns it on) beside tracewire: both subscribe to undici's `request:create` and both add trace headers to the same
// fetch (the instrumentation through the API, whose propagator is tracewire's). undici sends both values of each,
// which the next service reads as none. Whichever subscribed first, each header must go out once.

const received: http.IncomingHttpHeaders[] = [];
const downstream = http.createServer((req, res) => {
  received.push(req.headersDistinct as http.IncomingHttpHeaders);
  res.end('ok');
});
let base = '';
let tracer: Tracer | undefined;
let registration: OpenTelemetryApiRegistration | undefined;
let disableInstrumentation: (() => void) | undefined;
// A tracer's shutdown shuts its exporter down too: one of each per test.
let exporter = new InMemoryExporter();

type Order = 'tracewire first' | 'OpenTelemetry first';

function traceWith(order: Order, options: Parameters<typeof configure>[0]): Tracer {
  const instrument = () => {
    disableInstrumentation = registerInstrumentations({ instrumentations: [new UndiciInstrumentation()] });
  };
  if (order === 'OpenTelemetry first') instrument();
  exporter = new InMemoryExporter();
  tracer = configure({
    serviceName: 'otel-undici',
    processors: [new SimpleSpanProcessor(exporter)],
    shutdownOnSignals: false,
    ...options,
  });
  registration = registerOpenTelemetryApi(api);
  if (order === 'tracewire first') instrument();
  return tracer;
}

async function fetchOnce(): Promise<void> {
  const answer = await fetch(`${base}/stock`);
  expect(answer.status).toBe(200);
  await answer.text();
}

/** tracewire's client span, and the instrumentation's, recorded through the API bridge beside it. */
function clientSpans() {
  const spans = exporter.getFinishedSpans();
  return {
    ours: spans.find((s) => s.kind === SpanKind.CLIENT && s.scope.name.startsWith('@tracewire')),
    theirs: spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-undici'),
  };
}

beforeAll(async () => {
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`;
});
afterEach(async () => {
  disableInstrumentation?.();
  registration?.unregister();
  await tracer?.shutdown();
  received.length = 0;
});
afterAll(async () => {
  downstream.closeAllConnections();
  await new Promise((resolve) => downstream.close(resolve));
});

describe.each<Order>(['tracewire first', 'OpenTelemetry first'])(
  "OpenTelemetry's undici instrumentation left on beside tracewire, %s",
  (order) => {
    it("sends one traceparent, tracestate and baggage per fetch, tracewire's client span's", async () => {
      const t = traceWith(order, {});
      const caller = {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: 1,
        isRemote: true,
        traceState: TraceState.parse('vendor=a1'),
      };
      const parent = t.startSpan('GET /orders', { kind: SpanKind.SERVER, parent: caller });
      const baggage = Baggage.empty().set('tenant', 'acme');
      await runInContext({ span: parent, baggage, suppressed: false }, fetchOnce);
      parent.end();

      const { ours, theirs } = clientSpans();
      // Still on: its span is recorded, only its headers are left out.
      expect(theirs?.parentSpanId).toBe(parent.spanContext().spanId);
      expect(received).toHaveLength(1);
      expect(received[0]?.traceparent).toEqual([`00-${caller.traceId}-${ours?.spanContext().spanId}-01`]);
      expect(received[0]?.tracestate).toEqual(['vendor=a1']);
      expect(received[0]?.baggage).toEqual(['tenant=acme']);
    });

    it("sends each B3 multi header once, tracewire's", async () => {
      const t = traceWith(order, { propagators: 'b3multi' });
      const parent = t.startSpan('GET /orders', { kind: SpanKind.SERVER });
      await withSpan(parent, fetchOnce);
      parent.end();

      const { ours } = clientSpans();
      expect(received[0]?.['x-b3-traceid']).toEqual([parent.spanContext().traceId]);
      expect(received[0]?.['x-b3-spanid']).toEqual([ours?.spanContext().spanId]);
      expect(received[0]?.['x-b3-sampled']).toEqual(['1']);
    });

    it("sends Jaeger's headers once, its baggage included", async () => {
      const t = traceWith(order, { propagators: 'jaeger' });
      const parent = t.startSpan('GET /orders', { kind: SpanKind.SERVER });
      const baggage = Baggage.empty().set('tenant', 'acme');
      await runInContext({ span: parent, baggage, suppressed: false }, fetchOnce);
      parent.end();

      const { ours } = clientSpans();
      expect(received[0]?.['uber-trace-id']).toEqual([
        `${parent.spanContext().traceId}:${ours?.spanContext().spanId}:0:01`,
      ]);
      expect(received[0]?.['uberctx-tenant']).toEqual(['acme']);
    });

    it('sends no trace header where the destination rules say none', async () => {
      const t = traceWith(order, { instrumentOutgoing: { doNotPropagateTo: ['127.0.0.1'] } });
      const parent = t.startSpan('GET /orders', { kind: SpanKind.SERVER });
      const baggage = Baggage.empty().set('tenant', 'acme');
      await runInContext({ span: parent, baggage, suppressed: false }, fetchOnce);
      parent.end();

      expect(clientSpans().ours).toBeDefined();
      expect(received[0]?.traceparent).toBeUndefined();
      expect(received[0]?.tracestate).toBeUndefined();
      // Where the instrumentation went first, its baggage is on the call before tracewire sees it, as a caller's
      // own header would be, and is left there.
      expect(received[0]?.baggage).toEqual(order === 'tracewire first' ? undefined : ['tenant=acme']);
    });

    it('sends one traceparent for a call outside any request, with root calls traced', async () => {
      traceWith(order, { instrumentOutgoing: { traceRootCalls: true } });
      await fetchOnce();

      const { ours, theirs } = clientSpans();
      // Where the instrumentation went first, the call carries its trace, which tracewire leaves alone (a call that
      // already carries trace headers of another trace is not traced again).
      const sender = order === 'tracewire first' ? ours : theirs;
      expect(sender?.parentSpanId).toBeUndefined();
      expect(received[0]?.traceparent).toEqual([
        `00-${sender?.spanContext().traceId}-${sender?.spanContext().spanId}-01`,
      ]);
    });
  },
);

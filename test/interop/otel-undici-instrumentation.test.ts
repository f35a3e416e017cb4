import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as api from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import {
  configure,
  InMemoryExporter,
  registerOpenTelemetryApi,
  SimpleSpanProcessor,
  SpanKind,
  withSpan,
} from '@tracewire/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A user moving off OpenTelemetry's Node SDK who keeps its undici instrumentation on (getNodeAutoInstrumentations()
// turns it on) beside tracewire: both subscribe to undici's `request:create`, tracewire first, and both add a
// `traceparent` to the same fetch. undici sent the two values, which W3C Trace Context reads as none.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'otel-undici',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
const registration = registerOpenTelemetryApi(api);
const disableInstrumentations = registerInstrumentations({ instrumentations: [new UndiciInstrumentation()] });

const received: (string | string[] | undefined)[] = [];
const downstream = http.createServer((req, res) => {
  received.push(req.headersDistinct.traceparent);
  res.end('ok');
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  disableInstrumentations();
  registration.unregister();
  await tracer.shutdown();
  downstream.closeAllConnections();
  await new Promise((resolve) => downstream.close(resolve));
});

describe("OpenTelemetry's undici instrumentation left on beside tracewire", () => {
  it("sends one traceparent per fetch, tracewire's client span's", async () => {
    const parent = tracer.startSpan('GET /orders', { kind: SpanKind.SERVER });
    const answer = await withSpan(parent, () => fetch(`${base}/stock`));
    expect(answer.status).toBe(200);
    await answer.text();
    parent.end();

    const spans = exporter.getFinishedSpans();
    const ours = spans.find((s) => s.kind === SpanKind.CLIENT && s.scope.name.startsWith('@tracewire'));
    // Its own span is recorded through the API bridge, beside ours: it is still on, only its header is dropped.
    const theirs = spans.find((s) => s.scope.name === '@opentelemetry/instrumentation-undici');
    expect(theirs?.parentSpanId).toBe(parent.spanContext().spanId);
    expect(received).toEqual([[`00-${parent.spanContext().traceId}-${ours?.spanContext().spanId}-01`]]);
  });
});

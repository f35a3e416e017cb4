import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OTLP_KIND,
  type OtlpReceiver,
  onlySpan,
  type ReceivedSpan,
  startOtlpReceiver,
} from './fixtures/otlp-spans.js';
import { BOOT_TIMEOUT_MS, type Service, startService, stopAll, waitFor } from './fixtures/processes.js';

// OpenTelemetry JS (its own SDK, http and express instrumentations, propagators and OTLP exporter, in processes
// tracewire's code never enters) on both sides of a tracewire service:
//   otel-edge (OTel) → tracewire (Express adapter, dist) → otel-leaf (OTel)
// so one request proves both directions: OTel → tracewire and tracewire → OTel. Every span is read from what the
// processes exported over OTLP/HTTP to one receiver.

type Format = 'tracecontext' | 'b3' | 'b3multi';

interface ChainAnswer {
  service: string;
  received: Record<string, string>;
  downstream?: ChainAnswer;
}

const HEADERS_OF: Record<Format, string[]> = {
  tracecontext: ['traceparent'],
  b3: ['b3'],
  b3multi: ['x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid'],
};

function unsampledHeaders(format: Format, traceId: string): Record<string, string> {
  const spanId = randomBytes(8).toString('hex');
  switch (format) {
    case 'tracecontext':
      return { traceparent: `00-${traceId}-${spanId}-00` };
    case 'b3':
      return { b3: `${traceId}-${spanId}-0` };
    case 'b3multi':
      return { 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-sampled': '0' };
  }
}

function extraHeaders(format: Format, traceId: string): Record<string, string> {
  const spanId = randomBytes(8).toString('hex');
  switch (format) {
    case 'tracecontext':
      return {
        traceparent: `00-${traceId}-${spanId}-01`,
        tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
        baggage: 'user.id=alice,tenant=acme;ttl=60',
      };
    case 'b3':
      return { b3: `${traceId}-${spanId}-d` };
    case 'b3multi':
      return { 'x-b3-traceid': traceId, 'x-b3-spanid': spanId, 'x-b3-flags': '1' };
  }
}

/** Whether the headers a hop received say "not sampled", in whichever format they came. */
function saysUnsampled(received: Record<string, string>): boolean {
  if (received['traceparent']) return received['traceparent'].endsWith('-00');
  if (received['b3']) return received['b3'].split('-')[2] === '0';
  return received['x-b3-sampled'] === '0';
}

describe.each<Format>(['tracecontext', 'b3', 'b3multi'])('OpenTelemetry JS ⇄ tracewire over %s', (format) => {
  let receiver: OtlpReceiver;
  const services: Service[] = [];
  let sampled: ChainAnswer;
  let unsampled: ChainAnswer;
  /** W3C: a request carrying tracestate and baggage; B3: a debug request. */
  let extra: ChainAnswer;
  const extraTraceId = randomBytes(16).toString('hex');
  const unsampledTraceId = randomBytes(16).toString('hex');
  let traceId: string;
  let trace: ReceivedSpan[];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const otel = (name: string, downstream?: string) =>
      startService('otel-service.cjs', {
        nodeArgs: ['-r', './otel-setup.cjs'],
        env: {
          OTEL_SERVICE_NAME: name,
          OTLP_URL: receiver.url,
          OTEL_INTEROP_PROPAGATOR: format,
          ...(downstream ? { DOWNSTREAM_URL: downstream } : {}),
        },
      });
    const leaf = await otel('otel-leaf');
    services.push(leaf);
    const tracewire = await startService('tracewire-service.mjs', {
      env: {
        OTEL_SERVICE_NAME: 'tracewire',
        DOWNSTREAM_URL: leaf.url,
        // tracecontext: with W3C baggage, the default pair on both sides.
        OTEL_PROPAGATORS: format === 'tracecontext' ? 'tracecontext,baggage' : format,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    });
    services.push(tracewire);
    const edge = await otel('otel-edge', tracewire.url);
    services.push(edge);

    unsampled = (await (
      await fetch(`${edge.url}/chain`, { headers: unsampledHeaders(format, unsampledTraceId) })
    ).json()) as ChainAnswer;
    extra = (await (
      await fetch(`${edge.url}/chain`, { headers: extraHeaders(format, extraTraceId) })
    ).json()) as ChainAnswer;
    // No incoming context: OpenTelemetry starts this trace at the edge.
    sampled = (await (await fetch(`${edge.url}/chain`)).json()) as ChainAnswer;

    const edgeServer = () =>
      receiver.spans.find(
        (span) => span.service === 'otel-edge' && span.kind === OTLP_KIND.SERVER && !span.parentSpanId,
      );
    await waitFor('the OpenTelemetry edge server span', () => edgeServer() !== undefined);
    traceId = edgeServer()!.traceId;
    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    // otel-edge server + client, tracewire server + client, otel-leaf server (plus OTel's express spans).
    await waitFor('server and client spans from all three processes', () => {
      const kinds = inTrace().filter((span) => span.kind !== OTLP_KIND.INTERNAL);
      return kinds.length >= 5;
    });
    await waitFor('the tracewire server span of the third request', () =>
      receiver.spans.some(
        (span) =>
          span.traceId === extraTraceId && span.service === 'tracewire' && span.kind === OTLP_KIND.SERVER,
      ),
    );
    // SIGTERM flushes every tracer, so whatever the unsampled request recorded would be in by now.
    await stopAll(services);
    trace = inTrace();
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await stopAll(services);
    await receiver?.close();
  });

  it('continues the OpenTelemetry trace id through tracewire and back into OpenTelemetry', () => {
    expect(new Set(trace.map((span) => span.service))).toEqual(
      new Set(['otel-edge', 'tracewire', 'otel-leaf']),
    );
    expect(trace.filter((span) => span.kind !== OTLP_KIND.INTERNAL)).toHaveLength(5);
  });

  it("parents the tracewire server span on OpenTelemetry's client span", () => {
    const otelClient = onlySpan(trace, 'otel-edge', OTLP_KIND.CLIENT);
    const server = onlySpan(trace, 'tracewire', OTLP_KIND.SERVER);
    expect(server.parentSpanId).toBe(otelClient.spanId);
    expect(server.name).toBe('GET /chain');
  });

  it("parents OpenTelemetry's server span on the tracewire client span", () => {
    const server = onlySpan(trace, 'tracewire', OTLP_KIND.SERVER);
    const client = onlySpan(trace, 'tracewire', OTLP_KIND.CLIENT);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(onlySpan(trace, 'otel-leaf', OTLP_KIND.SERVER).parentSpanId).toBe(client.spanId);
  });

  it(`carries the context in ${format} headers alone, in both directions`, () => {
    const tracewireGot = sampled.downstream!;
    const leafGot = tracewireGot.downstream!;
    expect(Object.keys(tracewireGot.received).sort()).toEqual(HEADERS_OF[format]);
    expect(Object.keys(leafGot.received).sort()).toEqual(HEADERS_OF[format]);
  });

  it('passes an unsampled decision through both hops and records no span of that trace', () => {
    const tracewireGot = unsampled.downstream!.received;
    const leafGot = unsampled.downstream!.downstream!.received;
    expect(saysUnsampled(tracewireGot)).toBe(true);
    expect(saysUnsampled(leafGot)).toBe(true);
    expect(JSON.stringify(leafGot)).toContain(unsampledTraceId);
    expect(receiver.spans.filter((span) => span.traceId === unsampledTraceId)).toEqual([]);
  });

  if (format === 'tracecontext') {
    it('forwards the tracestate and baggage OpenTelemetry propagated, unchanged, to OpenTelemetry', () => {
      const edgeGot = extra.received;
      const tracewireGot = extra.downstream!.received;
      const leafGot = extra.downstream!.downstream!.received;
      expect(tracewireGot['tracestate']).toBe(edgeGot['tracestate']);
      expect(leafGot['tracestate']).toBe(edgeGot['tracestate']);
      for (const got of [tracewireGot, leafGot]) {
        expect(got['baggage']?.split(',').sort()).toEqual(['tenant=acme;ttl=60', 'user.id=alice']);
      }
    });
  } else {
    it("records a debug request from OpenTelemetry's B3 propagator and forwards it as debug", () => {
      const tracewireGot = extra.downstream!.received;
      const leafGot = extra.downstream!.downstream!.received;
      for (const got of [tracewireGot, leafGot]) {
        expect(format === 'b3' ? got['b3']?.split('-')[2] : got['x-b3-flags']).toBe(
          format === 'b3' ? 'd' : '1',
        );
      }
      // Debug implies sampled; B3 does not send X-B3-Sampled along with X-B3-Flags.
      if (format === 'b3multi') expect(leafGot['x-b3-sampled']).toBeUndefined();
      const recorded = receiver.spans.filter((span) => span.traceId === extraTraceId);
      expect(new Set(recorded.map((span) => span.service))).toEqual(
        new Set(['otel-edge', 'tracewire', 'otel-leaf']),
      );
    });
  }
});

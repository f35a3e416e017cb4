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
import { startZipkinReceiver, type ZipkinReceiver } from './fixtures/zipkin-receiver.js';
import { zipkinSpanValidator } from './fixtures/zipkin2-schema.js';

// zipkin-js (zipkin-instrumentation-express in, zipkin-instrumentation-fetch out, JSON v2 reports) on both sides of
// a tracewire service propagating B3 multi-header, the only B3 form zipkin-js reads and writes:
//   zipkin-edge (zipkin-js) → tracewire (Express adapter, dist) → zipkin-leaf (zipkin-js)
// zipkin-js reports to a local Zipkin endpoint, tracewire to the OTLP receiver.

interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: string;
  shared?: boolean;
  localEndpoint?: { serviceName?: string };
}

interface ChainAnswer {
  service: string;
  received: Record<string, string>;
  downstream?: ChainAnswer;
}

interface Setup {
  label: string;
  /** zipkin-js `traceId128Bit`: its default is false, 64-bit trace ids. */
  traceId128: boolean;
  /** zipkin-js `supportsJoin` (default true): the server span reuses the caller's span id, marked `shared`. */
  join: boolean;
}

const PAD_64 = '0000000000000000';

describe.each<Setup>([
  { label: '128-bit trace ids, joined server spans', traceId128: true, join: true },
  { label: '64-bit trace ids, server spans as children', traceId128: false, join: false },
])('zipkin-js ⇄ tracewire over B3 ($label)', ({ traceId128, join }) => {
  let otlp: OtlpReceiver;
  let zipkin: ZipkinReceiver;
  const services: Service[] = [];
  let answer: ChainAnswer;
  let unsampled: ChainAnswer;
  let edgeTraceId: string;
  let zipkinTrace: ZipkinSpan[];
  let tracewireTrace: ReceivedSpan[];
  const unsampledTraceId = randomBytes(8).toString('hex');

  const zipkinOf = (service: string, kind: string) => {
    const found = zipkinTrace.filter(
      (span) => span.localEndpoint?.serviceName === service && span.kind === kind,
    );
    expect(found, `${service} ${kind}`).toHaveLength(1);
    return found[0]!;
  };

  beforeAll(async () => {
    [otlp, zipkin] = await Promise.all([startOtlpReceiver(), startZipkinReceiver()]);
    const zipkinService = (name: string, downstream?: string) =>
      startService('zipkin-service.cjs', {
        env: {
          SERVICE_NAME: name,
          ZIPKIN_URL: zipkin.url,
          ZIPKIN_TRACE_ID_128: String(traceId128),
          ZIPKIN_SUPPORTS_JOIN: String(join),
          ...(downstream ? { DOWNSTREAM_URL: downstream } : {}),
        },
      });
    const leaf = await zipkinService('zipkin-leaf');
    services.push(leaf);
    const tracewire = await startService('tracewire-service.mjs', {
      env: {
        OTEL_SERVICE_NAME: 'tracewire',
        DOWNSTREAM_URL: leaf.url,
        OTEL_PROPAGATORS: 'b3multi',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
    });
    services.push(tracewire);
    const edge = await zipkinService('zipkin-edge', tracewire.url);
    services.push(edge);

    unsampled = (await (
      await fetch(`${edge.url}/chain`, {
        headers: {
          'x-b3-traceid': unsampledTraceId,
          'x-b3-spanid': randomBytes(8).toString('hex'),
          'x-b3-sampled': '0',
        },
      })
    ).json()) as ChainAnswer;
    answer = (await (await fetch(`${edge.url}/chain`)).json()) as ChainAnswer;

    // zipkin-js starts the trace at the edge; tracewire reads its id from the X-B3-TraceId it received.
    edgeTraceId = answer.downstream!.received['x-b3-traceid']!;
    const sameTrace = (id: string) => id.endsWith(edgeTraceId.slice(-16));
    await waitFor('zipkin-js edge, leaf and tracewire spans', () => {
      const zipkinSpans = zipkin.spans() as unknown as ZipkinSpan[];
      return (
        zipkinSpans.filter((span) => sameTrace(span.traceId)).length >= 3 &&
        otlp.spans.filter((span) => sameTrace(span.traceId)).length >= 2
      );
    });
    await stopAll(services);
    zipkinTrace = (zipkin.spans() as unknown as ZipkinSpan[]).filter((span) => sameTrace(span.traceId));
    tracewireTrace = otlp.spans.filter((span) => sameTrace(span.traceId));
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await stopAll(services);
    await Promise.all([otlp?.close(), zipkin?.close()]);
  });

  it(`starts a ${traceId128 ? '128' : '64'}-bit trace in zipkin-js that tracewire continues as 128-bit`, () => {
    expect(edgeTraceId).toHaveLength(traceId128 ? 32 : 16);
    const expected = traceId128 ? edgeTraceId : PAD_64 + edgeTraceId;
    expect(tracewireTrace.map((span) => span.traceId)).toEqual([expected, expected]);
    expect(zipkinOf('zipkin-edge', 'CLIENT').traceId).toBe(edgeTraceId);
  });

  it("parents the tracewire server span on zipkin-js's client span", () => {
    const client = zipkinOf('zipkin-edge', 'CLIENT');
    expect(onlySpan(tracewireTrace, 'tracewire', OTLP_KIND.SERVER).parentSpanId).toBe(client.id);
  });

  it('continues into zipkin-js downstream from the tracewire client span', () => {
    const client = onlySpan(tracewireTrace, 'tracewire', OTLP_KIND.CLIENT);
    const leafServer = zipkinOf('zipkin-leaf', 'SERVER');
    expect(leafServer.traceId).toBe(client.traceId);
    if (join) {
      // B3 "joined" span: zipkin-js reports its side of the caller's span, same id, shared.
      expect(leafServer).toMatchObject({ id: client.spanId, shared: true });
    } else {
      expect(leafServer.parentId).toBe(client.spanId);
    }
  });

  it('sends zipkin-js the X-B3-* headers it reads, and reads the ones zipkin-js sends', () => {
    expect(answer.downstream!.received).toMatchObject({ 'x-b3-sampled': '1' });
    expect(Object.keys(answer.downstream!.downstream!.received).sort()).toEqual([
      'x-b3-sampled',
      'x-b3-spanid',
      'x-b3-traceid',
    ]);
  });

  it('passes an unsampled decision from zipkin-js through tracewire and records nothing of it', () => {
    expect(unsampled.downstream!.received['x-b3-sampled']).toBe('0');
    expect(unsampled.downstream!.downstream!.received).toMatchObject({
      'x-b3-traceid': PAD_64 + unsampledTraceId,
      'x-b3-sampled': '0',
    });
    expect(otlp.spans.filter((span) => span.traceId.endsWith(unsampledTraceId))).toEqual([]);
    expect(zipkin.spans().filter((span) => String(span['traceId']).endsWith(unsampledTraceId))).toEqual([]);
  });

  it("reports zipkin-js's own spans in a form the Zipkin v2 schema accepts (control for the schema check)", () => {
    const validate = zipkinSpanValidator();
    for (const post of zipkin.posts) expect(validate(post.body), JSON.stringify(validate.errors)).toBe(true);
    expect(zipkin.posts.length).toBeGreaterThanOrEqual(3);
  });
});

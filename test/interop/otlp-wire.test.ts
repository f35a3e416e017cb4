import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeToObject, loadOtlpTypes } from '../../packages/node/test/fixtures/otlp-proto-root.js';
import { otlpJsonProblems, otlpJsonToMessage } from './fixtures/otlp-json-check.js';
import { type OtlpRawReceiver, startOtlpRawReceiver } from './fixtures/otlp-raw-receiver.js';
import { BOOT_TIMEOUT_MS, type Service, startService, stopAll, waitFor } from './fixtures/processes.js';

// What a running tracewire service puts on the wire over OTLP/HTTP, read back with the official OpenTelemetry
// .proto definitions (packages/node/test/fixtures/proto, loaded by protobufjs). OpenTelemetry JS has no
// receiver-side OTLP parser (its transformer only serializes requests and parses responses), so the .proto is the
// reference here: protobuf bodies are decoded with it, JSON bodies are checked against it field by field and then
// converted with it, and both must describe the same spans.

type Protocol = 'http/protobuf' | 'http/json';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}
interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  status: { code: number; message: string };
}
interface DecodedRequest {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: { scope: { name: string }; spans: DecodedSpan[] }[];
  }[];
}

const types = loadOtlpTypes();

function attribute(list: KeyValue[], key: string): Record<string, unknown> | undefined {
  return list.find((kv) => kv.key === key)?.value;
}

describe.each<Protocol>(['http/protobuf', 'http/json'])(
  'tracewire OTLP %s read with the official .proto',
  (protocol) => {
    let receiver: OtlpRawReceiver;
    let downstream: Server;
    const services: Service[] = [];
    let decoded: DecodedRequest[];
    let spans: DecodedSpan[];

    const spanNamed = (name: string, kind: number) => {
      const found = spans.filter((span) => span.name === name && span.kind === kind);
      expect(found, `${name} kind ${kind}`).toHaveLength(1);
      return found[0]!;
    };

    beforeAll(async () => {
      receiver = await startOtlpRawReceiver();
      // A plain, untraced peer for the client span to call.
      downstream = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}'),
      );
      await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
      const { port } = downstream.address() as { port: number };
      const service = await startService('tracewire-service.mjs', {
        env: {
          OTEL_SERVICE_NAME: 'tracewire-otlp',
          DOWNSTREAM_URL: `http://127.0.0.1:${port}`,
          OTEL_PROPAGATORS: 'tracecontext',
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_BSP_SCHEDULE_DELAY: '50',
        },
      });
      services.push(service);
      const ok = await fetch(`${service.url}/users/7`, {
        headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`, tracestate: 'vendor=opaque' },
      });
      expect(ok.status).toBe(200);
      expect((await fetch(`${service.url}/users/0`)).status).toBe(500);
      expect((await fetch(`${service.url}/chain`)).status).toBe(200);
      await waitFor('four exported spans', () => receiver.posts.length > 0 && countSpans() >= 4);
      await stopAll(services);
      decoded = receiver.posts.map((post) => decode(post.body)) as unknown as DecodedRequest[];
      spans = decoded.flatMap((request) =>
        request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)),
      );
    }, BOOT_TIMEOUT_MS);

    afterAll(async () => {
      await stopAll(services);
      await receiver?.close();
      await new Promise((resolve) => downstream?.close(resolve));
    });

    function decode(body: Buffer): Record<string, unknown> {
      if (protocol === 'http/protobuf') return decodeToObject(types.request, body);
      const message = otlpJsonToMessage(types.request, JSON.parse(body.toString('utf8')));
      return decodeToObject(types.request, types.request.encode(message).finish());
    }

    function countSpans(): number {
      return receiver.posts
        .map((post) => decode(post.body) as unknown as DecodedRequest)
        .flatMap((request) => request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)))
        .length;
    }

    it(`sends ${protocol === 'http/json' ? 'application/json' : 'application/x-protobuf'}`, () => {
      const expected = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
      expect(receiver.posts.map((post) => post.contentType)).toEqual(receiver.posts.map(() => expected));
    });

    if (protocol === 'http/json') {
      it('uses only field names, enum integers, 64-bit strings and hex ids the proto3 JSON mapping allows', () => {
        for (const post of receiver.posts) {
          expect(otlpJsonProblems(types.request, JSON.parse(post.body.toString('utf8')))).toEqual([]);
        }
      });
    } else {
      it('decodes to messages protobufjs verifies against the .proto', () => {
        for (const post of receiver.posts)
          expect(types.request.verify(types.request.decode(post.body))).toBeNull();
      });
    }

    it('names the service in the resource and the instrumentation scope', () => {
      for (const request of decoded) {
        for (const resourceSpans of request.resourceSpans) {
          expect(attribute(resourceSpans.resource.attributes, 'service.name')).toEqual({
            stringValue: 'tracewire-otlp',
          });
          for (const scopeSpans of resourceSpans.scopeSpans) expect(scopeSpans.scope.name).not.toBe('');
        }
      }
    });

    it('exports the three requests and the one outgoing call, and nothing of its own export', () => {
      expect(spans.map((span) => `${span.kind} ${span.name}`).sort()).toEqual([
        '2 GET /chain',
        '2 GET /users/:id',
        '2 GET /users/:id',
        '3 GET',
      ]);
    });

    it('keeps the incoming trace id, parent span id and tracestate on the server span', () => {
      const server = spans.find((span) => span.traceId === TRACE_ID)!;
      expect(server).toMatchObject({
        name: 'GET /users/:id',
        kind: 2,
        traceId: TRACE_ID,
        parentSpanId: CALLER_SPAN_ID,
        traceState: 'vendor=opaque',
      });
      expect(server.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(BigInt(server.endTimeUnixNano) >= BigInt(server.startTimeUnixNano)).toBe(true);
      expect(attribute(server.attributes, 'http.request.method')).toEqual({ stringValue: 'GET' });
      expect(attribute(server.attributes, 'http.route')).toEqual({ stringValue: '/users/:id' });
      expect(attribute(server.attributes, 'http.response.status_code')).toEqual({ intValue: '200' });
    });

    it('marks the 500 response STATUS_CODE_ERROR', () => {
      const failed = spans.find(
        (span) => attribute(span.attributes, 'http.response.status_code')?.['intValue'] === '500',
      );
      expect(failed?.status.code).toBe(2);
    });

    it('records the outgoing call as a CLIENT child of its server span', () => {
      const server = spanNamed('GET /chain', 2);
      const client = spans.find((span) => span.kind === 3);
      expect(client).toMatchObject({ traceId: server.traceId, parentSpanId: server.spanId });
    });
  },
);

describe('the OTLP JSON check itself', () => {
  const valid = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'a' } }] },
        scopeSpans: [
          {
            scope: { name: 's' },
            spans: [
              {
                traceId: TRACE_ID,
                spanId: CALLER_SPAN_ID,
                name: 'n',
                kind: 2,
                startTimeUnixNano: '1732550000123500000',
                endTimeUnixNano: '1732550000135750000',
                status: { code: 0 },
              },
            ],
          },
        ],
      },
    ],
  };

  function withSpan(change: Record<string, unknown>): unknown {
    const copy = structuredClone(valid);
    Object.assign(copy.resourceSpans[0]!.scopeSpans[0]!.spans[0]!, change);
    return copy;
  }

  it('accepts a well-formed request', () => {
    expect(otlpJsonProblems(types.request, valid)).toEqual([]);
  });

  it.each([
    ['base64 trace id', { traceId: Buffer.from(TRACE_ID, 'hex').toString('base64') }],
    ['enum as a name', { kind: 'SPAN_KIND_SERVER' }],
    ['snake_case key', { start_time_unix_nano: '1' }],
    ['timestamp as a fraction', { endTimeUnixNano: '1.5' }],
    ['unknown field', { duration: 3 }],
  ])('reports a %s', (_label, change) => {
    expect(otlpJsonProblems(types.request, withSpan(change))).not.toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeOtlpJson } from '../src/receivers/otlp-json-decode.js';
import { otlpToRecords } from '../src/receivers/otlp-to-records.js';
import { decodeZipkinJson } from '../src/receivers/zipkin-decode.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** One Zipkin span (a minimal valid one, `fields` over it) as the receiver decodes it. */
function decodeOne(fields: object, receivedUs?: number) {
  const span = { traceId: TRACE, id: SPAN, name: 'op', timestamp: 1, duration: 1, ...fields };
  return decodeZipkinJson(JSON.stringify([span]), receivedUs).spans[0]!;
}

describe('keys that come off the wire', () => {
  it('keeps a __proto__ key as an ordinary entry: it neither vanishes nor lends the map a service.name', () => {
    const request = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'real' } },
              {
                key: '__proto__',
                value: {
                  kvlistValue: { values: [{ key: 'service.name', value: { stringValue: 'spoofed' } }] },
                },
              },
            ],
          },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  traceId: TRACE,
                  spanId: SPAN,
                  name: 'op',
                  kind: 2,
                  startTimeUnixNano: '1000000000',
                  endTimeUnixNano: '2000000000',
                  attributes: [{ key: '__proto__', value: { stringValue: 'p' } }],
                },
              ],
            },
          ],
        },
      ],
    };
    const [span] = otlpToRecords(decodeOtlpJson(JSON.stringify(request))).spans;
    expect(span?.service).toBe('real');
    expect(Object.hasOwn(span!.attributes, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(span!.attributes, '__proto__')?.value).toBe('p');
    expect(Object.getPrototypeOf(span!.resource)).toBe(Object.prototype);
  });

  it('keeps a __proto__ Zipkin tag', () => {
    const span = decodeOne({ tags: JSON.parse('{"__proto__":"t"}') });
    expect(Object.hasOwn(span.attributes, '__proto__')).toBe(true);
  });
});

describe('Zipkin events as the OpenTelemetry SDKs write them (zipkin.md, Events)', () => {
  it.each([
    ['JavaScript', '"exception": {"exception.type":"Boom","exception.message":"m"}'],
    ['Java', '"exception":{"exception.type":"Boom","exception.message":"m"}'],
    ['Python', '{"exception": {"exception.type": "Boom", "exception.message": "m"}}'],
  ])('reads the name and attributes of an event written by %s', (_sdk, value) => {
    const span = decodeOne({ annotations: [{ timestamp: 1, value }] });
    // Before: Java's and Python's kept the whole JSON text as the event's name.
    expect(span?.events[0]).toMatchObject({
      name: 'exception',
      attributes: { 'exception.type': 'Boom', 'exception.message': 'm' },
    });
  });

  it('keeps a plain annotation as the event name', () => {
    const span = decodeOne({ annotations: [{ timestamp: 1, value: 'ws' }] });
    expect(span?.events[0]).toMatchObject({ name: 'ws', attributes: {} });
  });
});

describe('Zipkin spans without timestamp or duration (allowed by zipkin2-api.yaml)', () => {
  // JSON leaves undefined fields out: no timestamp, no duration, unless the case gives them.
  const decode = (span: object) => decodeOne({ timestamp: undefined, duration: undefined, ...span }, 5e15);

  it('start at their first annotation, lasting until the last, as Zipkin derives them', () => {
    const span = decode({
      annotations: [
        { timestamp: 3e15 + 500, value: 'b' },
        { timestamp: 3e15, value: 'a' },
      ],
    });
    expect(span.startUs).toBe(3e15);
    expect(span.durationUs).toBe(500);
  });

  it('start when they were received when they have no annotation either, not in 1970', () => {
    // Before: startUs 0, which made the whole trace start in 1970 and fall outside every time filter.
    expect(decode({}).startUs).toBe(5e15);
    expect(decode({ timestamp: 2e15, duration: 7 })).toMatchObject({ startUs: 2e15, durationUs: 7 });
  });
});

describe('B3 shared spans (one span id for both sides of an RPC)', () => {
  it("puts the server's own child spans under the shared server span, not under the caller's client span", () => {
    const rpc = 'aaaaaaaaaaaaaaaa';
    const { spans } = decodeZipkinJson(
      JSON.stringify([
        {
          traceId: TRACE,
          id: rpc,
          parentId: SPAN,
          name: 'get /api/cart',
          kind: 'CLIENT',
          timestamp: 1,
          duration: 9,
          localEndpoint: { serviceName: 'web' },
        },
        {
          traceId: TRACE,
          id: rpc,
          parentId: SPAN,
          name: 'get /api/cart',
          kind: 'SERVER',
          shared: true,
          timestamp: 2,
          duration: 7,
          localEndpoint: { serviceName: 'cart' },
        },
        {
          traceId: TRACE,
          id: 'bbbbbbbbbbbbbbbb',
          parentId: rpc,
          name: 'select cart',
          kind: 'CLIENT',
          timestamp: 3,
          duration: 2,
          localEndpoint: { serviceName: 'cart' },
        },
      ]),
    );
    const [client, server, query] = spans;
    expect(server?.parentSpanId).toBe(client?.spanId);
    // Before: under the web service's client span, so the map counted a second web → cart call.
    expect(query?.parentSpanId).toBe(server?.spanId);
  });
});

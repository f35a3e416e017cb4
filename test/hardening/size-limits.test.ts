import { Baggage, jaeger } from '@tracewire/core';
import {
  configure,
  createServerTracing,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanKind,
} from '@tracewire/node';
import supertest from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { APPS, startEchoDownstream, type TestApp } from '../adapters/apps.js';

// The limits on what a service accepts and forwards, at and just over each one, through every adapter: the
// handler calls a downstream service and the test reads what that service received.

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const VALUE_LIMIT = 64;

const exporter = new InMemoryExporter();
let downstream: Awaited<ReturnType<typeof startEchoDownstream>>;
let downstreamUrl: string;

function members(count: number, value = 'v'): string {
  return Array.from({ length: count }, (_, i) => `k${i}=${value}`).join(',');
}

/** A tracestate of `count` members whose serialized length is exactly `length` characters. */
function tracestateOfLength(length: number, count: number): string {
  const list = Array.from({ length: count }, (_, i) => `k${String(i).padStart(2, '0')}=`);
  const fixed = list.reduce((n, m) => n + m.length, 0) + (count - 1);
  const per = Math.floor((length - fixed) / count);
  let extra = length - fixed - per * count;
  return list
    .map((m) => {
      const v = 'x'.repeat(per + (extra-- > 0 ? 1 : 0));
      return m + v;
    })
    .join(',');
}

/** A baggage header of 1-character keys-with-index whose length is exactly `bytes`. */
function baggageOfBytes(bytes: number): string {
  const out: string[] = [];
  let used = -1;
  let i = 0;
  while (used + 1 + `b${i}=`.length + 1 <= bytes) {
    const key = `b${i}=`;
    out.push(`${key}v`);
    used += key.length + 2;
    i++;
    if (out.length === 100) break;
  }
  const rest = bytes - (out.join(',').length + 1 + `b${i}=`.length);
  out.push(`b${i}=${'y'.repeat(rest)}`);
  const header = out.join(',');
  expect(header.length).toBe(bytes);
  return header;
}

async function forwarded(app: TestApp, headers: Record<string, string>): Promise<Record<string, string>> {
  const res = await supertest(app.url).get('/outgoing').query({ to: downstreamUrl }).set(headers).expect(200);
  return res.body as Record<string, string>;
}

beforeAll(async () => {
  configure({
    processors: [new SimpleSpanProcessor(exporter)],
    exporters: 'none',
    shutdownOnSignals: false,
    spanLimits: { attributeValueLengthLimit: VALUE_LIMIT },
  });
  downstream = await startEchoDownstream();
  downstreamUrl = downstream.url;
});

afterAll(async () => {
  await downstream?.close();
});

describe.each(APPS)('size limits through $name', (factory) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await factory.create(
      { captureHeaders: { request: ['x-long'] } },
      { started: () => {}, answered: () => {} },
    );
  });
  afterAll(() => app.close());
  beforeEach(() => exporter.reset());

  it('forwards a tracestate of exactly 32 members', async () => {
    const sent = await forwarded(app, { traceparent: TRACEPARENT, tracestate: members(32) });
    expect(sent.tracestate).toBe(members(32));
  });

  it('drops a tracestate of 33 members but keeps the traceparent (W3C Trace Context §3.3.1.3)', async () => {
    const sent = await forwarded(app, { traceparent: TRACEPARENT, tracestate: members(33) });
    expect(sent.tracestate).toBeUndefined();
    expect(sent.traceparent).toContain('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('forwards a tracestate of exactly 512 characters unchanged', async () => {
    const header = tracestateOfLength(512, 8);
    expect(header.length).toBe(512);
    const sent = await forwarded(app, { traceparent: TRACEPARENT, tracestate: header });
    expect(sent.tracestate).toBe(header);
  });

  it('truncates a 513-character tracestate by whole members, to at most 512 (§3.3.1.5)', async () => {
    const header = tracestateOfLength(513, 8);
    expect(header.length).toBe(513);
    const sent = await forwarded(app, { traceparent: TRACEPARENT, tracestate: header });
    expect(sent.tracestate).toBeDefined();
    expect(sent.tracestate!.length).toBeLessThanOrEqual(512);
    expect(header.startsWith(sent.tracestate!)).toBe(true);
    expect(sent.tracestate!.split(',')).toHaveLength(7);
  });

  it('forwards baggage of exactly 180 members', async () => {
    const sent = await forwarded(app, { traceparent: TRACEPARENT, baggage: members(180) });
    expect(sent.baggage).toBe(members(180));
  });

  it('forwards only the first 180 members of a 181-member baggage', async () => {
    const sent = await forwarded(app, { traceparent: TRACEPARENT, baggage: members(181) });
    expect(sent.baggage).toBe(members(180));
  });

  it('forwards baggage of exactly 8192 bytes unchanged', async () => {
    const header = baggageOfBytes(8192);
    const sent = await forwarded(app, { traceparent: TRACEPARENT, baggage: header });
    expect(sent.baggage).toBe(header);
  });

  it('leaves out the member that takes baggage past 8192 bytes', async () => {
    const header = baggageOfBytes(8193);
    const sent = await forwarded(app, { traceparent: TRACEPARENT, baggage: header });
    expect(sent.baggage!.length).toBeLessThanOrEqual(8192);
    expect(sent.baggage).toBe(header.slice(0, header.lastIndexOf(',')));
  });

  it(`keeps attribute values of exactly ${VALUE_LIMIT} characters and truncates longer ones`, async () => {
    const atLimit = 'a'.repeat(VALUE_LIMIT);
    await forwarded(app, { 'x-long': atLimit, 'user-agent': `${'u'.repeat(VALUE_LIMIT)}-over` });
    const span = exporter.getFinishedSpans().find((s: ReadableSpan) => s.kind === SpanKind.SERVER);
    expect(span?.attributes['http.request.header.x-long']).toEqual([atLimit]);
    expect(span?.attributes['user_agent.original']).toBe('u'.repeat(VALUE_LIMIT));
    const client = exporter.getFinishedSpans().find((s: ReadableSpan) => s.kind === SpanKind.CLIENT);
    expect(String(client?.attributes['url.full']).length).toBeLessThanOrEqual(VALUE_LIMIT);
  });
});

describe('captureHeaders cap', () => {
  const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `x-h${i}`);
  afterEach(() => {
    delete process.env.TRACEWIRE_CAPTURE_REQUEST_HEADERS;
  });

  it('accepts 32 request and 32 response header names', () => {
    expect(() =>
      createServerTracing({ captureHeaders: { request: names(32), response: names(32) } }),
    ).not.toThrow();
  });

  it('rejects a 33rd header name with a RangeError naming the option', () => {
    expect(() => createServerTracing({ captureHeaders: { request: names(33) } })).toThrow(
      /captureHeaders\.request may list at most 32 headers/,
    );
    expect(() => createServerTracing({ captureHeaders: { response: names(33) } })).toThrow(RangeError);
  });

  it('counts names from TRACEWIRE_CAPTURE_REQUEST_HEADERS towards the cap, duplicates once, warning past it', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      process.env.TRACEWIRE_CAPTURE_REQUEST_HEADERS = names(2).join(',');
      expect(
        createServerTracing({ captureHeaders: { request: names(32) } }).options.requestHeaders.map(
          (h) => h.header,
        ),
      ).toEqual(names(32));
      expect(warn).not.toHaveBeenCalled();
      // The variable's extra name does not fit: left out with a warning, the service still starts.
      process.env.TRACEWIRE_CAPTURE_REQUEST_HEADERS = 'x-extra';
      const resolved = createServerTracing({ captureHeaders: { request: names(32) } }).options;
      expect(resolved.requestHeaders.map((h) => h.header)).toEqual(names(32));
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(
          /TRACEWIRE_CAPTURE_REQUEST_HEADERS: .*at most 32 headers; got 33; the variable is ignored/,
        ),
      );
    } finally {
      warn.mockRestore();
    }
  });
});

describe('Jaeger uberctx-* baggage', () => {
  it('injects at most 8192 bytes of uberctx-* baggage, leaving out the members that do not fit', () => {
    let baggage = Baggage.empty();
    // Values set from incoming uberctx-* headers are not bounded by the W3C parser; percent-encoding grows them.
    for (let i = 0; i < 4; i++) baggage = baggage.set(`k${i}`, 'é'.repeat(500));
    baggage = baggage.set('small', 'v');
    const headers: Record<string, string> = {};
    jaeger.inject({ baggage }, headers);
    const members = Object.entries(headers).filter(([name]) => name.startsWith('uberctx-'));
    const bytes = members.reduce((n, [name, value]) => n + name.length - 8 + value.length + 2, -1);
    expect(bytes).toBeLessThanOrEqual(8192);
    expect(members.map(([name]) => name)).toEqual(['uberctx-k0', 'uberctx-k1', 'uberctx-small']);
  });
});

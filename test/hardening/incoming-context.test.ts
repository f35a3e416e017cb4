import {
  alwaysOff,
  alwaysOn,
  configure,
  InMemoryExporter,
  parentBased,
  type ReadableSpan,
  type ServerTracingOptions,
  SimpleSpanProcessor,
  SpanKind,
  Tracer,
  traceIdRatio,
} from '@tracewire/node';
import supertest from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APPS, startEchoDownstream, type TestApp } from '../adapters/apps.js';

// The public-edge option `incomingContext`, in the shared adapter suite's style: the same cases against
// Express 4/5, Koa 2/3 and Fastify 4/5.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const SAMPLED = `00-${TRACE_ID}-${PARENT_ID}-01`;
const UNSAMPLED = `00-${TRACE_ID}-${PARENT_ID}-00`;

const exporter = new InMemoryExporter();
const neverRoot = new Tracer({
  processors: [new SimpleSpanProcessor(exporter)],
  sampler: parentBased({ root: alwaysOff }),
});
const alwaysRoot = new Tracer({
  processors: [new SimpleSpanProcessor(exporter)],
  sampler: parentBased({ root: alwaysOn }),
});
const ratioZero = new Tracer({
  processors: [new SimpleSpanProcessor(exporter)],
  sampler: parentBased({ root: traceIdRatio(0) }),
});
let downstream: Awaited<ReturnType<typeof startEchoDownstream>>;
let downstreamUrl: string;

function serverSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
}

async function serverSpan(): Promise<ReadableSpan> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const span = serverSpans()[0];
    if (span !== undefined) return span;
    if (Date.now() > deadline) throw new Error('timed out waiting for the server span');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What the downstream service received as traceparent when the handler called it. */
async function downstreamTraceparent(app: TestApp, traceparent: string, path = '/outgoing'): Promise<string> {
  return downstreamTraceparentFor(app, { traceparent }, path);
}

async function downstreamTraceparentFor(
  app: TestApp,
  headers: Record<string, string>,
  path = '/outgoing',
): Promise<string> {
  const res = await supertest(app.url).get(path).query({ to: downstreamUrl }).set(headers).expect(200);
  return String(res.body.traceparent);
}

/** Waits as long as an exported span would take to arrive, then expects none. */
async function expectNoServerSpan(): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  expect(serverSpans()).toEqual([]);
}

interface Case {
  name: string;
  options: ServerTracingOptions;
  env?: string;
  run(app: TestApp): Promise<void>;
}

const CASES: Case[] = [
  {
    name: "'continue' (default) joins the caller's trace and follows its sampled flag",
    options: { tracer: neverRoot },
    async run(app) {
      const sent = await downstreamTraceparent(app, SAMPLED);
      const span = await serverSpan();
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanId).toBe(PARENT_ID);
      expect(sent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    },
  },
  {
    name: "'link' starts a new trace whose server span links to the caller's span",
    options: { incomingContext: 'link', tracer: alwaysRoot },
    async run(app) {
      const sent = await downstreamTraceparent(app, SAMPLED);
      const span = await serverSpan();
      expect(span.spanContext().traceId).not.toBe(TRACE_ID);
      expect(span.parentSpanId).toBeUndefined();
      expect(span.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[TRACE_ID, PARENT_ID]]);
      expect(sent).toMatch(new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-01$`));
    },
  },
  {
    name: "'link' applies the local sampler to the new trace, whatever the caller decided",
    options: { incomingContext: 'link', tracer: neverRoot },
    async run(app) {
      const sent = await downstreamTraceparent(app, SAMPLED);
      await new Promise((r) => setTimeout(r, 20));
      expect(serverSpans()).toEqual([]);
      expect(sent).not.toContain(TRACE_ID);
      expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    },
  },
  {
    name: "'ignore-sampling' keeps the trace id but drops a caller's sampled=1 the local sampler rejects",
    options: { incomingContext: 'ignore-sampling', tracer: neverRoot },
    async run(app) {
      const sent = await downstreamTraceparent(app, SAMPLED);
      await new Promise((r) => setTimeout(r, 20));
      expect(serverSpans()).toEqual([]);
      expect(sent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    },
  },
  {
    name: "'ignore-sampling' records a caller's sampled=0 request the local sampler accepts, as its child",
    options: { incomingContext: 'ignore-sampling', tracer: alwaysRoot },
    async run(app) {
      const sent = await downstreamTraceparent(app, UNSAMPLED);
      const span = await serverSpan();
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanId).toBe(PARENT_ID);
      expect(sent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    },
  },
  {
    name: "'link' does not pass the caller's trace id on from an ignored path",
    options: { incomingContext: 'link', ignore: ['/internal/**'], tracer: alwaysRoot },
    async run(app) {
      const sent = await downstreamTraceparent(app, SAMPLED, '/internal/outgoing');
      expect(sent).not.toContain(TRACE_ID);
      expect(serverSpans()).toEqual([]);
    },
  },
  {
    name: "'continue' follows a proxy's b3: 0: nothing recorded, calls carry a new trace with sampled=0",
    options: { tracer: alwaysRoot },
    async run(app) {
      const sent = await downstreamTraceparentFor(app, { b3: '0' });
      await expectNoServerSpan();
      expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      expect(sent.slice(3, 35)).not.toBe('0'.repeat(32));
      const again = await downstreamTraceparentFor(app, { b3: '0' });
      expect(again.slice(3, 35)).not.toBe(sent.slice(3, 35));
    },
  },
  {
    name: "'continue' follows X-B3-Sampled: 0 sent without ids the same way",
    options: { tracer: alwaysRoot },
    async run(app) {
      const sent = await downstreamTraceparentFor(app, { 'X-B3-Sampled': '0' });
      await expectNoServerSpan();
      expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    },
  },
  {
    name: "'continue' records a new root for b3: 1 sent without ids, though the root sampler's ratio is 0",
    options: { tracer: ratioZero },
    async run(app) {
      const sent = await downstreamTraceparentFor(app, { b3: '1' });
      const span = await serverSpan();
      expect(span.parentSpanId).toBeUndefined();
      expect(sent).toMatch(new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-01$`));
    },
  },
  {
    name: "'ignore-sampling' lets the local sampler decide over b3: 0",
    options: { incomingContext: 'ignore-sampling', tracer: alwaysRoot },
    async run(app) {
      const sent = await downstreamTraceparentFor(app, { b3: '0' });
      const span = await serverSpan();
      expect(sent).toMatch(new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-01$`));
    },
  },
  {
    name: "'link' lets the local sampler decide over b3: 1",
    options: { incomingContext: 'link', tracer: ratioZero },
    async run(app) {
      const sent = await downstreamTraceparentFor(app, { b3: '1' });
      await expectNoServerSpan();
      expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    },
  },
  {
    name: 'a valid traceparent wins over b3: 0 in the same request',
    options: { tracer: neverRoot },
    async run(app) {
      const sent = await downstreamTraceparentFor(app, { traceparent: SAMPLED, b3: '0' });
      const span = await serverSpan();
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanId).toBe(PARENT_ID);
      expect(sent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    },
  },
  {
    name: 'TRACEWIRE_INCOMING_CONTEXT=link applies when the option is absent',
    options: { tracer: alwaysRoot },
    env: 'link',
    async run(app) {
      await downstreamTraceparent(app, SAMPLED);
      const span = await serverSpan();
      expect(span.spanContext().traceId).not.toBe(TRACE_ID);
      expect(span.links[0]?.context.traceId).toBe(TRACE_ID);
    },
  },
  {
    name: 'the option wins over TRACEWIRE_INCOMING_CONTEXT',
    options: { incomingContext: 'continue', tracer: alwaysRoot },
    env: 'link',
    async run(app) {
      await downstreamTraceparent(app, SAMPLED);
      const span = await serverSpan();
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.links).toEqual([]);
    },
  },
];

beforeAll(async () => {
  configure({ exporters: 'none', shutdownOnSignals: false });
  downstream = await startEchoDownstream();
  downstreamUrl = downstream.url;
});

afterAll(async () => {
  await downstream?.close();
});

const noSignals = { started: () => {}, answered: () => {} };

describe.each(APPS)('incomingContext on $name', (factory) => {
  let app: TestApp | undefined;

  beforeEach(() => exporter.reset());

  afterEach(async () => {
    delete process.env.TRACEWIRE_INCOMING_CONTEXT;
    await app?.close();
    app = undefined;
  });

  it.each(CASES)('$name', async ({ options, env, run }) => {
    if (env !== undefined) process.env.TRACEWIRE_INCOMING_CONTEXT = env;
    app = await factory.create(options, noSignals);
    await run(app);
  });

  it('rejects an unknown incomingContext at registration, naming the option', async () => {
    await expect(
      factory.create({ incomingContext: 'trust-me' as 'link' }, noSignals).then((a) => {
        app = a;
      }),
    ).rejects.toThrow(/incomingContext must be one of continue, ignore-sampling, link/);
  });

  it('rejects an unknown TRACEWIRE_INCOMING_CONTEXT at registration, naming the variable', async () => {
    process.env.TRACEWIRE_INCOMING_CONTEXT = 'sometimes';
    await expect(
      factory.create({}, noSignals).then((a) => {
        app = a;
      }),
    ).rejects.toThrow(/TRACEWIRE_INCOMING_CONTEXT must be one of/);
  });
});

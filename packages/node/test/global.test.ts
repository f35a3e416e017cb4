import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TraceFlags } from '@tracewire/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { forgetProcessSharedState } from './fixtures/fresh-process-state.js';
import { startReceiver } from './fixtures/receiver.js';
import { SpanCollector } from './span-collector.js';

type GlobalModule = typeof import('../src/global.js');
type ContextModule = typeof import('../src/context.js');

// Each test gets a fresh module, so "no tracer configured yet" is real.
let global: GlobalModule;
let withSpan: ContextModule['withSpan'];
beforeEach(async () => {
  vi.resetModules();
  forgetProcessSharedState();
  vi.stubEnv('OTEL_TRACES_EXPORTER', 'none');
  global = await import('../src/global.js');
  // The fresh module graph has its own AsyncLocalStorage; use the same one the tracer reads.
  ({ withSpan } = await import('../src/context.js'));
});
afterEach(async () => {
  vi.unstubAllEnvs();
  // Shut down whatever the test left as the global tracer, so no signal listener or patch outlives it.
  await global
    .configure({ exporters: 'none', shutdownOnSignals: false, instrumentOutgoing: false })
    .shutdown();
});

/** A global tracer whose spans `firstCollector` keeps, with no signal hooks or outgoing instrumentation. */
function configureRecording() {
  const firstCollector = new SpanCollector();
  const first = global.configure({
    processors: [firstCollector],
    shutdownOnSignals: false,
    instrumentOutgoing: false,
  });
  return { first, firstCollector };
}
describe('configure and getTracer', () => {
  it('getTracer configures a tracer from the environment on first use and then returns the same one', () => {
    vi.stubEnv('OTEL_SERVICE_NAME', 'from-env');
    const tracer = global.getTracer();
    expect(tracer.resource.attributes['service.name']).toBe('from-env');
    expect(global.getTracer()).toBe(tracer);
  });

  it('configure sets the global tracer and shuts the previous one down', async () => {
    const { first, firstCollector } = configureRecording();
    expect(global.getTracer()).toBe(first);
    const span = first.startSpan('queued before reconfigure', { parent: null });
    const second = global.configure({
      serviceName: 'second',
      shutdownOnSignals: false,
      instrumentOutgoing: false,
    });
    expect(global.getTracer()).toBe(second);
    await first.shutdown();
    expect(first.isShutdown).toBe(true);
    expect(firstCollector.shutdowns).toBe(1);
    span.end();
    expect(second.resource.attributes['service.name']).toBe('second');
  });

  it('lets requests in flight during a reconfiguration finish their spans on the previous tracer', async () => {
    const { SpanKind, SpanStatusCode } = await import('../src/span-data.js');
    const { first, firstCollector } = configureRecording();
    const inFlight = first.startSpan('GET /slow', { kind: SpanKind.SERVER, parent: null });
    global.configure({ shutdownOnSignals: false, instrumentOutgoing: false });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(first.isShutdown).toBe(false);
    inFlight.setStatus({ code: SpanStatusCode.OK });
    inFlight.end();
    await vi.waitFor(() => expect(first.isShutdown).toBe(true));
    expect(firstCollector.shutdowns).toBe(1);
    const ended = firstCollector.spans.find((span) => span.name === 'GET /slow');
    expect(ended?.status.code).toBe(SpanStatusCode.OK);
    expect(ended?.attributes['error.type']).toBeUndefined();
  });

  it('lets work of any kind in flight during a reconfiguration finish its span on the previous tracer', async () => {
    const { first, firstCollector } = configureRecording();
    // A background job's INTERNAL span, with no request or call of its own open when the reconfiguration comes.
    const job = first.startSpan('nightly-job', { parent: null });
    global.configure({ shutdownOnSignals: false, instrumentOutgoing: false });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(first.isShutdown).toBe(false);
    job.end();
    await vi.waitFor(() => expect(first.isShutdown).toBe(true));
    expect(firstCollector.spans.map((span) => span.name)).toEqual(['nightly-job']);
  });

  it('does not make a new tracer flush wait on a previous one the app had shut down itself', async () => {
    // A processor whose flush never ends: what a shut-down tracer's export left running looks like to a flush.
    const hanging = {
      onStart() {},
      onEnd() {},
      forceFlush: () => new Promise<void>(() => {}),
      shutdown: async () => {},
    };
    const first = global.configure({
      processors: [hanging],
      shutdownOnSignals: false,
      instrumentOutgoing: false,
    });
    await first.shutdown();
    const second = global.configure({ shutdownOnSignals: false, instrumentOutgoing: false });
    const outcome = await Promise.race([
      second.forceFlush().then(() => 'flushed'),
      new Promise((resolve) => setTimeout(resolve, 1000, 'still waiting')),
    ]);
    expect(outcome).toBe('flushed');
  });

  it('keeps the previous tracer when the new options are invalid', () => {
    const first = global.configure({ shutdownOnSignals: false, instrumentOutgoing: false });
    expect(() => global.configure({ sampler: 'nope' as never })).toThrow(RangeError);
    expect(global.getTracer()).toBe(first);
    expect(first.isShutdown).toBe(false);
  });

  it('starts from getTracer when the environment is invalid, warning once of the variable it ignored', () => {
    vi.stubEnv('OTEL_TRACES_SAMPLER', 'often');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const tracer = global.getTracer();
      expect(warn).toHaveBeenCalledWith(
        'tracewire: OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio, ratelimited, parentbased_ratelimited; got "often"; the variable is ignored and its default used.',
      );
      // Not re-read per call: a per-request caller must not pay for configuration each time.
      expect(global.getTracer()).toBe(tracer);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('sends ended spans to the given processors with the configured sampler and limits', () => {
    const collector = new SpanCollector();
    const tracer = global.configure({
      processors: [collector],
      sampler: 'always_on',
      spanLimits: { attributeCountLimit: 1 },
      shutdownOnSignals: false,
      instrumentOutgoing: false,
    });
    tracer.startSpan('s', { parent: null, attributes: { a: 1, b: 2 } }).end();
    expect(collector.spans).toHaveLength(1);
    expect(Object.keys(collector.spans[0]!.attributes)).toEqual(['a']);
    expect(collector.spans[0]!.droppedAttributesCount).toBe(1);
  });

  it('installs signal and beforeExit listeners and removes them on shutdown', async () => {
    const before = ['SIGTERM', 'SIGINT', 'beforeExit'].map((e) => process.listenerCount(e));
    const tracer = global.configure({ instrumentOutgoing: false });
    expect(['SIGTERM', 'SIGINT', 'beforeExit'].map((e) => process.listenerCount(e))).toEqual(
      before.map((n) => n + 1),
    );
    await tracer.shutdown();
    expect(['SIGTERM', 'SIGINT', 'beforeExit'].map((e) => process.listenerCount(e))).toEqual(before);
  });

  it('installs no listeners with shutdownOnSignals: false', () => {
    const before = process.listenerCount('SIGTERM');
    global.configure({ shutdownOnSignals: false, instrumentOutgoing: false });
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('with OTEL_SDK_DISABLED=true records nothing, exports nothing, but still propagates the incoming context', () => {
    vi.stubEnv('OTEL_SDK_DISABLED', 'true');
    const collector = new SpanCollector();
    const before = process.listenerCount('SIGTERM');
    const tracer = global.configure({ processors: [collector], instrumentOutgoing: false });
    expect(tracer.disabled).toBe(true);
    expect(process.listenerCount('SIGTERM')).toBe(before);
    const parent = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    };
    const span = tracer.startSpan('handler', { parent });
    span.end();
    expect(span.isRecording()).toBe(false);
    const headers: Record<string, string> = {};
    tracer.propagator.inject({ spanContext: span.spanContext() }, headers);
    expect(headers['traceparent']).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(collector.spans).toHaveLength(0);
    expect(tracer.stats.spansStarted).toBe(0);
  });

  it('builds exporters from names behind batch processors (console shown here)', async () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const tracer = global.configure({
        exporters: 'console',
        shutdownOnSignals: false,
        instrumentOutgoing: false,
      });
      tracer.startSpan('checkout', { parent: null }).end();
      await tracer.forceFlush();
      expect(write.mock.calls.map(([chunk]) => String(chunk)).join('')).toContain('checkout');
    } finally {
      write.mockRestore();
    }
  });

  it("says what fails at the collector even when the full queue's line came first", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // A collector that drops every connection as a request arrives; a queue that fills at once.
    const collector = await startReceiver((_req, _i, res) => res.socket?.destroy());
    try {
      const tracer = global.configure({
        exporters: 'otlp',
        otlp: { tracesEndpoint: collector.url },
        batch: { maxQueueSize: 4, maxExportBatchSize: 2, scheduledDelayMillis: 10 },
        shutdownOnSignals: false,
        instrumentOutgoing: false,
      });
      for (let i = 0; i < 20; i++) tracer.startSpan(`span ${i}`, { parent: null }).end();
      const lines = () => warn.mock.calls.map(([line]) => String(line));
      expect(lines()).toEqual([expect.stringMatching(/span queue is full/)]);
      await vi.waitFor(() => expect(lines()).toContainEqual(expect.stringMatching(/cannot send spans to/)), {
        timeout: 5000,
      });
      expect(lines()).toHaveLength(2);
    } finally {
      await collector.close();
    }
  });

  describe('outgoing calls', () => {
    let server: Server;
    let url: string;
    const received: (string | undefined)[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        const header = req.headers.traceparent;
        received.push(Array.isArray(header) ? header.join(',') : header);
        res.end('ok');
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      received.length = 0;
    });

    const get = () =>
      new Promise<void>((resolve, reject) => {
        request(url, (res) => {
          res.resume();
          res.on('end', resolve);
        })
          .on('error', reject)
          .end();
      });

    it('are instrumented by default and no longer after shutdown', async () => {
      const tracer = global.configure({ shutdownOnSignals: false });
      const span = tracer.startSpan('parent', { parent: null });
      await withSpan(span, get);
      expect(received[0]).toMatch(new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-01$`));
      await tracer.shutdown();
      await withSpan(span, get);
      expect(received[1]).toBeUndefined();
    });

    it('carry the incoming context unchanged when the SDK is disabled', async () => {
      const tracer = global.configure({ disabled: true });
      const incoming = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      };
      await withSpan(tracer.startSpan('handler', { parent: incoming }), get);
      expect(received[0]).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    });
  });

  describe('exporters built from configuration', () => {
    it.each(['otlp', 'zipkin'] as const)(
      '%s: an export ends at batch.exportTimeoutMillis, so a collector that never answers has one request open at a time',
      async (name) => {
        let open = 0;
        let maxOpen = 0;
        const collector = await startReceiver((_request, _index, res) => {
          open++;
          maxOpen = Math.max(maxOpen, open);
          res.on('close', () => open--);
          // Never answers.
        });
        vi.spyOn(console, 'warn').mockImplementation(() => {});
        const tracer = global.configure({
          exporters: name,
          otlp: { tracesEndpoint: collector.url, protocol: 'http/json' },
          zipkin: { endpoint: collector.url },
          // The exporters' own timeout stays at its default, 10 s.
          batch: { exportTimeoutMillis: 300, scheduledDelayMillis: 20 },
          shutdownOnSignals: false,
          instrumentOutgoing: false,
        });
        try {
          const started = Date.now();
          while (collector.requests.length < 3 && Date.now() - started < 10_000) {
            tracer.startSpan('work', { parent: null }).end();
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          // Before: each request kept running for 10 s after the processor had given up on it at 300 ms.
          expect(collector.requests.length).toBeGreaterThanOrEqual(3);
          expect(maxOpen).toBe(1);
        } finally {
          await tracer.shutdown();
          await collector.close();
        }
      },
    );
  });
});

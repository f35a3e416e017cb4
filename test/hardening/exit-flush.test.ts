import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { SpanStatusCode } from '@tracewire/node';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeToObject, loadOtlpTypes } from '../../packages/node/test/fixtures/otlp-proto-root.js';
import { startOtlpRawReceiver } from '../interop/fixtures/otlp-raw-receiver.js';
import { startExportingChild } from './fixtures/exporting-child.js';
import { type CollectedSpan, FakeCollector } from './fixtures/fake-collector.js';
import { waitFor } from './fixtures/services.js';

// Real processes (dist/, so `pnpm build` first) ending the ways that skip `beforeExit`: an uncaught exception, an
// unhandled rejection, `process.exit()`. The batch delay is a minute: what reaches the collector was delivered by
// the exit itself.

const SERVICE = fileURLToPath(new URL('./fixtures/exit-service.mjs', import.meta.url));
const SERVER = 2;

interface Service {
  process: ChildProcess;
  output(): string;
  url(): string;
}

const children: ChildProcess[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const close of closers.splice(0)) await close();
});

async function collector(): Promise<FakeCollector> {
  const c = new FakeCollector();
  await c.up();
  closers.push(() => c.down());
  return c;
}

async function startService(collectorUrl: string, env: Record<string, string> = {}): Promise<Service> {
  const child = startExportingChild(SERVICE, collectorUrl, env, children);
  await waitFor(() => /listening on (\S+)/.test(child.output()), 'the service to listen');
  return { ...child, url: () => /listening on (\S+)/.exec(child.output())![1]! };
}

/** Sends a request the service never answers (the process ends under it, or the test gives up on it). */
function unanswered(url: string, signal?: AbortSignal): void {
  fetch(url, { signal }).then(
    (r) => r.text(),
    () => undefined,
  );
}

function exceptionOf(span: CollectedSpan): Record<string, unknown> | undefined {
  const event = span.events.find((e) => e.name === 'exception');
  if (event === undefined) return undefined;
  return Object.fromEntries((event.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]));
}

function serverSpan(spans: CollectedSpan[], name: string): CollectedSpan {
  const found = spans.filter((s) => s.kind === SERVER && s.name === name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return found[0]!;
}

describe('an uncaught exception thrown by a request', () => {
  it("ends the process as Node does, after delivering that request's span with the exception", async () => {
    const otlp = await collector();
    const service = await startService(otlp.url);
    expect((await fetch(`${service.url()}/ok`)).status).toBe(200);
    unanswered(`${service.url()}/slow`);
    await waitFor(() => service.output().includes('slow started'), 'the slow request to be in flight');
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/throws-later/7`);
    const [code, signal] = await exited;

    // Node's own report and exit code: tracewire adds no listener that would change them.
    expect({ code, signal }).toEqual({ code: 1, signal: null });
    expect(service.output()).toMatch(/TypeError: boom in a timer\n\s+at Timeout/);
    // Before: nothing was delivered (the batch waited for its timer, and the process was gone).
    const crashed = serverSpan(otlp.spans, 'GET /throws-later/:id');
    expect(crashed.statusCode).toBe(SpanStatusCode.ERROR);
    expect(crashed.attributes['error.type']).toBe('TypeError');
    expect(crashed.attributes['http.route']).toBe('/throws-later/:id');
    expect(exceptionOf(crashed)).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'boom in a timer',
    });
    expect(serverSpan(otlp.spans, 'GET /ok').statusCode).toBe(SpanStatusCode.UNSET);
    const slow = serverSpan(otlp.spans, 'GET /slow');
    expect(slow.attributes['error.type']).toBe('shutdown');
    expect(exceptionOf(slow)).toBeUndefined();
  });

  it('is delivered in protobuf too, the queue holding encoded spans', async () => {
    const receiver = await startOtlpRawReceiver();
    closers.push(() => receiver.close());
    const service = await startService(receiver.url, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
    expect((await fetch(`${service.url()}/ok`)).status).toBe(200);
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/throws-later/8`);
    expect((await exited)[0]).toBe(1);

    const types = loadOtlpTypes();
    expect(receiver.posts.map((post) => post.contentType)).toEqual(['application/x-protobuf']);
    const request = decodeToObject(types.request, receiver.posts[0]!.body) as {
      resourceSpans: {
        scopeSpans: { spans: { name: string; status: { code: number }; events: { name: string }[] }[] }[];
      }[];
    };
    const spans = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    expect(spans.map((s) => s.name)).toEqual(['GET /ok', 'GET /throws-later/:id']);
    expect(spans[1]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[1]!.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('thrown inside a span the app started, ends that span too and still fails the request', async () => {
    const otlp = await collector();
    const service = await startService(otlp.url);
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/throws-in-span/14`);
    expect((await exited)[0]).toBe(1);
    const inner = otlp.spans.find((s) => s.name === 'inner work');
    expect(inner?.statusCode).toBe(SpanStatusCode.ERROR);
    expect(exceptionOf(inner!)?.['exception.message']).toBe('boom inside a span');
    // Before: the request's span ended as a shutdown, the exception nowhere on it.
    const crashed = serverSpan(otlp.spans, 'GET /throws-in-span/:id');
    expect(crashed.attributes['error.type']).toBe('TypeError');
    expect(exceptionOf(crashed)?.['exception.message']).toBe('boom inside a span');
  });

  it('thrown under a span started through the OpenTelemetry API, still fails the request', async () => {
    const otlp = await collector();
    const service = await startService(otlp.url);
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/throws-in-otel-span/16`);
    expect((await exited)[0]).toBe(1);
    // Before: the API's context did not know the request, which ended as a shutdown without the exception.
    const crashed = serverSpan(otlp.spans, 'GET /throws-in-otel-span/:id');
    expect(crashed.attributes['error.type']).toBe('TypeError');
    expect(exceptionOf(crashed)?.['exception.message']).toBe('boom under an OpenTelemetry span');
  });

  it('through a SimpleSpanProcessor with protobuf, still delivers the crashing request', async () => {
    const receiver = await startOtlpRawReceiver();
    closers.push(() => receiver.close());
    const service = await startService(receiver.url, {
      SIMPLE: '1',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/throws-later/15`);
    expect((await exited)[0]).toBe(1);
    // Before: the span's export was still encoding when the exit came, and nothing reached the receiver.
    const types = loadOtlpTypes();
    const names = receiver.posts.flatMap((post) => {
      const request = decodeToObject(types.request, post.body) as {
        resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[];
      };
      return request.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((sp) => sp.name)),
      );
    });
    expect(names).toEqual(['GET /throws-later/:id']);
  });

  it('records an unhandled rejection the same way', async () => {
    const otlp = await collector();
    const service = await startService(otlp.url);
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/rejects-later/9`);
    expect((await exited)[0]).toBe(1);
    expect(service.output()).toMatch(/RangeError: nobody handles this rejection/);
    const crashed = serverSpan(otlp.spans, 'GET /rejects-later/:id');
    expect(crashed.attributes['error.type']).toBe('RangeError');
    expect(exceptionOf(crashed)?.['exception.message']).toBe('nobody handles this rejection');
  });

  it("with the app's own handler that exits, records the exception and delivers at that exit", async () => {
    const otlp = await collector();
    const service = await startService(otlp.url, { HANDLER: 'exits' });
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/throws-later/10`);
    expect((await exited)[0]).toBe(7);
    expect(service.output()).toContain('app handler: boom in a timer');
    const crashed = serverSpan(otlp.spans, 'GET /throws-later/:id');
    expect(crashed.attributes['error.type']).toBe('TypeError');
    expect(exceptionOf(crashed)?.['exception.message']).toBe('boom in a timer');
  });

  it("with the app's own handler that keeps running, leaves the process alone and the span to its request", async () => {
    const otlp = await collector();
    const service = await startService(otlp.url, { HANDLER: 'keeps-running' });
    const giveUp = new AbortController();
    unanswered(`${service.url()}/throws-later/11`, giveUp.signal);
    await waitFor(() => service.output().includes('app handler: boom in a timer'), 'the app handler to run');
    // Still serving, at once: nothing waited for a delivery.
    const started = performance.now();
    expect((await fetch(`${service.url()}/ok`)).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(otlp.spans).toEqual([]);
    giveUp.abort();
    const exited = once(service.process, 'exit');
    unanswered(`${service.url()}/exit`);
    expect((await exited)[0]).toBe(3);
    // The client gave up on the request; what failed it is its code's exception.
    const crashed = serverSpan(otlp.spans, 'GET /throws-later/:id');
    expect(crashed.attributes['error.type']).toBe('TypeError');
    expect(exceptionOf(crashed)?.['exception.message']).toBe('boom in a timer');
  });
});

describe('process.exit()', () => {
  it('delivers the spans still queued', async () => {
    const otlp = await collector();
    const service = await startService(otlp.url);
    for (let i = 0; i < 5; i++) expect((await fetch(`${service.url()}/ok`)).status).toBe(200);
    const exited = once(service.process, 'exit');
    expect(await (await fetch(`${service.url()}/exit`)).text()).toBe('bye');
    expect((await exited)[0]).toBe(3);
    // Before: every one was lost, the batch waiting for its timer.
    expect(otlp.spans.filter((s) => s.name === 'GET /ok')).toHaveLength(5);
    expect(serverSpan(otlp.spans, 'GET /exit').attributes['http.response.status_code']).toBe(200);
  });
});

describe('SIGTERM to an app whose own handler exits at once', () => {
  it("delivers the spans tracewire's flush had only started to send", async () => {
    const otlp = await collector();
    const service = await startService(otlp.url, { HANDLER: 'sigterm-exits' });
    for (let i = 0; i < 5; i++) expect((await fetch(`${service.url()}/ok`)).status).toBe(200);
    const exited = once(service.process, 'exit');
    service.process.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
    // Before: the flush tracewire started at the signal had taken the batch into a POST still connecting when
    // process.exit() ended everything, and the exit found nothing queued.
    expect(otlp.spans.filter((s) => s.name === 'GET /ok')).toHaveLength(5);
    expect(otlp.requests).toBe(1);
  });
});

describe('SIGTERM to an app that exits once its server has closed', () => {
  it('delivers each span once, none sent again after its first POST had left', async () => {
    const receiver = await startOtlpRawReceiver();
    closers.push(() => receiver.close());
    // Batches of five: the first leaves at once and keeps a connection open, as in any service that has run a while.
    const service = await startService(receiver.url, {
      HANDLER: 'sigterm-closes-then-exits',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '5',
    });
    // Connections closed after each answer: the server then closes at once on the signal, as a drained one does.
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${service.url()}/ok`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      await res.text();
    }
    await waitFor(() => receiver.posts.length === 1, 'the first batch');
    const exited = once(service.process, 'exit');
    service.process.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
    const types = loadOtlpTypes();
    const ids = receiver.posts.flatMap((post) => {
      const request = decodeToObject(types.request, post.body) as {
        resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[];
      };
      return request.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((sp) => sp.spanId)),
      );
    });
    // Before: the batch tracewire's signal flush had written was sent again from the exit (its 'finish' event,
    // which said it had left, comes after the server's close callback).
    expect(ids).toHaveLength(8);
    expect(new Set(ids).size).toBe(8);
  });
});

describe('the collector at the exit', () => {
  it('down: the crash is not held up', async () => {
    const down = await collector();
    await down.down();
    const service = await startService(down.url);
    const exited = once(service.process, 'exit');
    const sent = performance.now();
    unanswered(`${service.url()}/throws-later/12`);
    expect((await exited)[0]).toBe(1);
    expect(performance.now() - sent).toBeLessThan(2000);
    expect(service.output()).toMatch(/TypeError: boom in a timer/);
    // One line says what was lost, in words true at an exit: nothing will try again.
    expect(service.output()).toContain('could not deliver the last spans');
    expect(service.output()).not.toContain('try again');
  });

  it('never answering: the exit waits shutdownOnSignals.timeoutMillis at most', async () => {
    const silent = await collector();
    silent.behaviour = { kind: 'slow', delayMillis: 60_000 };
    const service = await startService(silent.url, { SHUTDOWN_TIMEOUT: '1000' });
    const exited = once(service.process, 'exit');
    const sent = performance.now();
    unanswered(`${service.url()}/throws-later/13`);
    expect((await exited)[0]).toBe(1);
    expect(performance.now() - sent).toBeLessThan(3000);
    expect(silent.requests).toBe(1);
  });
});

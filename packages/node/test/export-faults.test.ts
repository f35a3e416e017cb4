import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchSpanProcessor } from '../src/batch-processor.js';
import { backoff, DEFAULT_RETRY_POLICY, parseRetryAfter } from '../src/exporters/http-send.js';
import { OtlpHttpExporter } from '../src/exporters/otlp-http-exporter.js';
import { toOtlpJson } from '../src/exporters/otlp-json.js';
import { SimpleSpanProcessor } from '../src/simple-processor.js';
import { TracerStats } from '../src/stats.js';
import { closedPort, type Receiver, startReceiver } from './fixtures/receiver.js';
import { makeSpan } from './fixtures/spans.js';

const FAST_RETRY = { maxAttempts: 3, initialBackoffMillis: 10, maxBackoffMillis: 20 };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const started = await startReceiver(respond);
  cleanups.push(() => started.close());
  return started;
}

function processorFor(
  exporter: OtlpHttpExporter,
  options: ConstructorParameters<typeof BatchSpanProcessor>[1] = {},
): BatchSpanProcessor {
  const processor = new BatchSpanProcessor(
    exporter,
    { scheduledDelayMillis: 20, shutdownTimeoutMillis: 2000, ...options },
    new TracerStats(),
  );
  cleanups.push(() => processor.shutdown());
  return processor;
}

function spanIdsIn(receiver: Receiver): string[] {
  return receiver.requests.flatMap((request) => {
    const body = JSON.parse(request.body.toString()) as ReturnType<typeof toOtlpJson>;
    return body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.spanId)));
  });
}

describe('export faults against real local HTTP servers', () => {
  it('collector down: batches fail and are counted, and the user is warned exactly once', async () => {
    const warn = vi.fn();
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${await closedPort()}/v1/traces`,
      retry: FAST_RETRY,
      warn,
    });
    const processor = processorFor(exporter, { maxExportBatchSize: 5 });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++) processor.onEnd(makeSpan());
      await processor.forceFlush();
    }
    expect(processor.stats.exportFailures).toBe(4);
    expect(processor.stats.droppedExportFailed).toBe(20);
    expect(processor.stats.spansExported).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/nothing is listening/);
  });

  it('warns about a missing collector on the first refused connection, before the retries are over', async () => {
    const warn = vi.fn();
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${await closedPort()}/v1/traces`,
      retry: { maxAttempts: 3, initialBackoffMillis: 300, maxBackoffMillis: 300 },
      warn,
    });
    const result = exporter.export([makeSpan()]);
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
    let settled = false;
    void result.then(() => {
      settled = true;
    });
    expect(settled).toBe(false);
    expect((await result).code).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('collector answers 500: no retry, the batch is counted as failed', async () => {
    const collector = await receiver((_req, _i, res) => res.writeHead(500).end('internal'));
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      protocol: 'http/json',
      retry: FAST_RETRY,
      warn: () => {},
    });
    const processor = processorFor(exporter);
    processor.onEnd(makeSpan());
    processor.onEnd(makeSpan());
    await processor.forceFlush();
    expect(collector.requests).toHaveLength(1);
    expect(processor.stats).toMatchObject({ exportFailures: 1, droppedExportFailed: 2, spansExported: 0 });
  });

  it('other 4xx answers are final too', async () => {
    const collector = await receiver((_req, _i, res) => res.writeHead(400).end('bad request'));
    const exporter = new OtlpHttpExporter({ url: collector.url, retry: FAST_RETRY, warn: () => {} });
    const result = await exporter.export([makeSpan()]);
    expect(result.code).toBe(1);
    expect(result.error?.message).toMatch(/HTTP 400/);
    expect(collector.requests).toHaveLength(1);
  });

  it('never puts credentials in what it reports: userinfo and query of the URL, or a refusal echoing them', async () => {
    const warn = vi.fn();
    const url = `http://tenant:glc_SECRET@127.0.0.1:${await closedPort()}/v1/traces?api_key=SECRET`;
    const down = new OtlpHttpExporter({ url, retry: { maxAttempts: 1 }, warn });
    const failed = await down.export([makeSpan()]);
    // Once in many runs warn was not called; what the export answered then says why.
    expect(warn, `export answered ${failed.code} (${String(failed.error)})`).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toContain(`http://127.0.0.1:${new URL(url).port}/v1/traces (`);
    expect(warn.mock.calls[0]![0]).not.toMatch(/SECRET|tenant|api_key/);
    const collector = await receiver((req, _i, res) =>
      res.writeHead(401).end(`unauthorized: got ${String(req.headers.authorization)}`),
    );
    const refused = new OtlpHttpExporter({
      url: collector.url,
      headers: { authorization: 'Bearer sk_live_SECRET' },
      warn: () => {},
    });
    const result = await refused.export([makeSpan()]);
    expect(result.error?.message).toBe('HTTP 401');
  });

  it('names any other failure once a retry failed too, before the retries are over; one failed attempt says nothing', async () => {
    const warn = vi.fn();
    // A collector that drops every connection as a request arrives (a proxy in front of one that is gone).
    const collector = await receiver((_req, _i, res) => res.socket?.destroy());
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      retry: { maxAttempts: 4, initialBackoffMillis: 200, maxBackoffMillis: 200 },
      warn,
    });
    const result = exporter.export([makeSpan()]);
    await vi.waitFor(() => expect(collector.requests.length).toBeGreaterThanOrEqual(1));
    expect(warn).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
    expect(collector.requests.length).toBeLessThan(4);
    expect(warn.mock.calls[0]![0]).toMatch(/cannot send spans to .*\(socket hang up\)/);
    expect((await result).code).toBe(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a stale kept-alive connection mended by the retry is no outage: nothing is said', async () => {
    const warn = vi.fn();
    const collector = await receiver((_req, i, res) => {
      if (i === 0) res.socket?.destroy();
      else res.writeHead(200).end('{}');
    });
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      protocol: 'http/json',
      retry: FAST_RETRY,
      warn,
    });
    expect((await exporter.export([makeSpan()])).code).toBe(0);
    expect(warn).not.toHaveBeenCalled();
  });

  it('keeps maxConcurrentExports exports in flight to a slow collector, more than four included', async () => {
    let inFlight = 0;
    let most = 0;
    const collector = await receiver((_req, _i, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end('{}');
      }, 300);
    });
    const exporter = new OtlpHttpExporter({ url: collector.url, protocol: 'http/json', timeoutMillis: 2000 });
    const processor = processorFor(exporter, { maxExportBatchSize: 1, maxConcurrentExports: 6 });
    for (let i = 0; i < 6; i++) processor.onEnd(makeSpan());
    await processor.forceFlush();
    expect(most).toBe(6);
    expect(processor.stats.spansExported).toBe(6);
    expect(processor.stats.exportFailures).toBe(0);
  });

  it('503 and network resets are retried with backoff until the collector accepts', async () => {
    const collector = await receiver((_req, i, res) => {
      if (i === 0) res.writeHead(503).end();
      else if (i === 1) res.socket?.destroy();
      else res.writeHead(200).end('{}');
    });
    const exporter = new OtlpHttpExporter({ url: collector.url, protocol: 'http/json', retry: FAST_RETRY });
    const result = await exporter.export([makeSpan()]);
    expect(result.code).toBe(0);
    expect(collector.requests).toHaveLength(3);
  });

  it('429 with Retry-After: waits as long as the collector asked before retrying', async () => {
    const collector = await receiver((_req, i, res) => {
      if (i === 0) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200).end('{}');
    });
    // Backoff alone would retry after ~10 ms; only Retry-After explains a gap of a second.
    const exporter = new OtlpHttpExporter({ url: collector.url, protocol: 'http/json', retry: FAST_RETRY });
    const result = await exporter.export([makeSpan()]);
    expect(result.code).toBe(0);
    expect(collector.requests).toHaveLength(2);
    expect(collector.requests[1]!.at - collector.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('reports the Retry-After of the last attempt it was allowed', async () => {
    const collector = await receiver((_req, _i, res) => res.writeHead(429, { 'retry-after': '5' }).end());
    const exporter = new OtlpHttpExporter({ url: collector.url, retry: { maxAttempts: 1 }, warn: () => {} });
    expect(await exporter.export([makeSpan()])).toMatchObject({ code: 1, retryAfterMs: 5000 });
    expect(collector.requests).toHaveLength(1);
  });

  it('a Retry-After beyond the export timeout ends the export early and reports the wait', async () => {
    const collector = await receiver((_req, _i, res) => res.writeHead(503, { 'retry-after': '120' }).end());
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      timeoutMillis: 2000,
      retry: FAST_RETRY,
      warn: () => {},
    });
    const result = await exporter.export([makeSpan()]);
    expect(result).toMatchObject({ code: 1, retryAfterMs: 120_000 });
    expect(collector.requests).toHaveLength(1);
  });

  it('429 with Retry-After past the export timeout: no batch is sent until the interval has passed', async () => {
    const collector = await receiver((_req, _i, res) =>
      res.writeHead(429, { 'retry-after': '30' }).end('slow down'),
    );
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      protocol: 'http/json',
      timeoutMillis: 2000,
      retry: FAST_RETRY,
      warn: () => {},
    });
    const processor = processorFor(exporter, {
      maxQueueSize: 50,
      maxExportBatchSize: 5,
      exportTimeoutMillis: 2000,
      shutdownTimeoutMillis: 300,
      warn: () => {},
    });
    let maxQueue = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 5; i++) processor.onEnd(makeSpan());
      maxQueue = Math.max(maxQueue, processor.queueLength);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // Before: a request every scheduled delay (20 ms), each refused the same way.
    expect(collector.requests).toHaveLength(1);
    expect(maxQueue).toBeLessThanOrEqual(50);
    expect(processor.stats).toMatchObject({
      exportFailures: 1,
      droppedExportFailed: 5,
      droppedQueueFull: 145,
    });
    // Neither waits out the remaining 29 s: both end by their deadlines (2 s, 0.3 s), without another request.
    await processor.forceFlush();
    await processor.shutdown();
    expect(collector.requests).toHaveLength(1);
    expect(processor.stats.droppedShutdown).toBe(50);
  });

  it('429 with Retry-After: 1, past the export timeout: the next batch leaves a second later and is delivered', async () => {
    const collector = await receiver((_req, i, res) => {
      if (i === 0) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200).end('{}');
    });
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      protocol: 'http/json',
      timeoutMillis: 500,
      retry: FAST_RETRY,
      warn: () => {},
    });
    const processor = processorFor(exporter, { maxExportBatchSize: 5 });
    const started = Date.now();
    while (processor.stats.spansExported === 0 && Date.now() - started < 10_000) {
      processor.onEnd(makeSpan());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(processor.stats.spansExported).toBeGreaterThan(0);
    expect(collector.requests.length).toBeGreaterThanOrEqual(2);
    // Before: the second request followed the refused one within one scheduled delay (20 ms).
    expect(collector.requests[1]!.at - collector.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('collector never answers: onEnd stays synchronous, the queue stays bounded and drops are counted', async () => {
    const collector = await receiver(() => {
      // Never respond.
    });
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      timeoutMillis: 200,
      retry: FAST_RETRY,
      warn: () => {},
    });
    const processor = processorFor(exporter, {
      maxQueueSize: 100,
      maxExportBatchSize: 10,
      exportTimeoutMillis: 1000,
      shutdownTimeoutMillis: 300,
    });
    let maxQueue = 0;
    for (let i = 0; i < 1000; i++) {
      const returned: unknown = processor.onEnd(makeSpan());
      expect(returned).toBeUndefined();
      maxQueue = Math.max(maxQueue, processor.queueLength);
    }
    expect(maxQueue).toBeLessThanOrEqual(100);
    // One batch of 10 is out (hanging); 100 wait; the other 890 were dropped on arrival.
    expect(processor.stats.droppedQueueFull).toBe(890);
    await vi.waitFor(() => expect(processor.stats.exportFailures).toBeGreaterThanOrEqual(1), {
      timeout: 5000,
    });
    await processor.shutdown();
    // A batch still in flight at the shutdown deadline is counted when its export times out.
    await vi.waitFor(() => {
      const { droppedQueueFull, droppedExportFailed, droppedShutdown } = processor.stats;
      expect(droppedQueueFull + droppedExportFailed + droppedShutdown).toBe(1000);
    });
    expect(processor.stats.spansExported).toBe(0);
  });

  it('memory stays bounded: 10× maxQueueSize spans with the collector down never grow the queue past its limit', async () => {
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${await closedPort()}/v1/traces`,
      retry: FAST_RETRY,
      warn: () => {},
    });
    const processor = processorFor(exporter, {
      maxQueueSize: 50,
      maxExportBatchSize: 10,
      scheduledDelayMillis: 5,
    });
    let maxQueue = 0;
    for (let i = 0; i < 500; i++) {
      processor.onEnd(makeSpan());
      maxQueue = Math.max(maxQueue, processor.queueLength);
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(maxQueue).toBeLessThanOrEqual(50);
    await processor.shutdown();
    expect(processor.stats.droppedQueueFull).toBeGreaterThan(0);
    await vi.waitFor(() => {
      const { droppedQueueFull, droppedExportFailed, droppedShutdown } = processor.stats;
      expect(droppedQueueFull + droppedExportFailed + droppedShutdown).toBe(500);
    });
  });

  it('partialSuccess answers are parsed and the rejected spans counted', async () => {
    const collector = await receiver((_req, _i, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"partialSuccess":{"rejectedSpans":"2","errorMessage":"spans too old"}}'),
    );
    const exporter = new OtlpHttpExporter({ url: collector.url, protocol: 'http/json' });
    const processor = processorFor(exporter);
    for (let i = 0; i < 5; i++) processor.onEnd(makeSpan());
    await processor.forceFlush();
    expect(processor.stats).toMatchObject({ spansExported: 3, droppedRejected: 2, exportFailures: 0 });
  });

  it('gzip: the body arrives with content-encoding gzip and decodes to the OTLP JSON request', async () => {
    const collector = await receiver();
    const exporter = new OtlpHttpExporter({ url: collector.url, protocol: 'http/json', compression: 'gzip' });
    const spans = [makeSpan({ attributes: { 'http.route': '/orders/:id' } }), makeSpan()];
    expect((await exporter.export(spans)).code).toBe(0);
    expect(collector.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(collector.requests[0]!.body.toString())).toEqual(
      JSON.parse(JSON.stringify(toOtlpJson(spans))),
    );
  });

  it('shutdown delivers every queued span to the receiver', async () => {
    const collector = await receiver();
    const exporter = new OtlpHttpExporter({ url: collector.url, protocol: 'http/json' });
    const processor = new BatchSpanProcessor(exporter, {
      scheduledDelayMillis: 60_000,
      maxExportBatchSize: 512,
    });
    const spans = Array.from({ length: 1500 }, () => makeSpan());
    for (const span of spans) processor.onEnd(span);
    await processor.shutdown();
    const received = spanIdsIn(collector);
    expect(received).toHaveLength(1500);
    expect(new Set(received)).toEqual(new Set(spans.map((s) => s.spanContext().spanId)));
    expect(processor.stats.spansExported).toBe(1500);
    expect(processor.stats.droppedShutdown).toBe(0);
  });
});

/** A server of the given kind on 127.0.0.1:0 that counts the connections made to it: one per export attempt. */
async function listening(
  server: http.Server | http2.Http2Server,
): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

describe('an endpoint that is not an OTLP/HTTP collector, as users misconfigure it', () => {
  it('an HTTP/2 prior-knowledge server (a gRPC port): says it did not answer HTTP/1.1, tries once', async () => {
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end();
    });
    const h2 = await listening(server);
    const warn = vi.fn();
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${h2.port}/v1/traces`,
      retry: FAST_RETRY,
      warn,
    });
    const result = await exporter.export([makeSpan()]);
    const reason = 'the server did not answer in HTTP/1.1: a gRPC port? OTLP/HTTP is usually 4318, gRPC 4317';
    expect(result.code).toBe(1);
    expect(result.error?.message).toBe(reason);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toContain(
      `http://127.0.0.1:${h2.port}/v1/traces (${reason}). Later batches try again`,
    );
    expect(h2.connections()).toBe(1);
  });

  it('https:// to a plain-http port: one short line saying to use http://, tries once', async () => {
    const plain = await listening(http.createServer((_req, res) => res.end()));
    const warn = vi.fn();
    const exporter = new OtlpHttpExporter({
      url: `https://127.0.0.1:${plain.port}/v1/traces`,
      retry: FAST_RETRY,
      warn,
    });
    const result = await exporter.export([makeSpan()]);
    expect(result.error?.message).toBe('the server does not speak TLS there: use http://?');
    expect(warn).toHaveBeenCalledTimes(1);
    const warning = warn.mock.calls[0]![0] as string;
    expect(warning).toContain(
      `https://127.0.0.1:${plain.port}/v1/traces (the server does not speak TLS there`,
    );
    // OpenSSL's own text comes with a source path and a line break.
    expect(warning).not.toMatch(/[\u0000-\u001f\u007f-\u009f]|openssl|deps\//);
    expect(plain.connections()).toBe(1);
  });

  it('a redirect: names its target without userinfo, query or body, and is not retried', async () => {
    const collector = await receiver((_req, _i, res) =>
      res
        .writeHead(308, { location: 'https://tenant:SECRET@collector.example/v1/traces?token=SECRET' })
        .end('<a href="https://collector.example/v1/traces?token=SECRET">Permanent Redirect</a>'),
    );
    const warn = vi.fn();
    const exporter = new OtlpHttpExporter({ url: collector.url, retry: FAST_RETRY, warn });
    const result = await exporter.export([makeSpan()]);
    expect(result.error?.message).toBe(
      'HTTP 308 redirect to https://collector.example/v1/traces, not followed',
    );
    expect(warn.mock.calls[0]![0]).not.toMatch(/SECRET|tenant|token/);
    expect(collector.requests).toHaveLength(1);
  });

  it('a redirect to a relative Location: names it resolved against the exporter URL', async () => {
    const collector = await receiver((_req, _i, res) =>
      res.writeHead(301, { location: '/otlp/v1/traces' }).end(),
    );
    const exporter = new OtlpHttpExporter({ url: collector.url, retry: FAST_RETRY, warn: () => {} });
    const result = await exporter.export([makeSpan()]);
    const { origin } = new URL(collector.url);
    expect(result.error?.message).toBe(`HTTP 301 redirect to ${origin}/otlp/v1/traces, not followed`);
    expect(collector.requests).toHaveLength(1);
  });
});

describe('retry timing', () => {
  it('reads Retry-After as delay-seconds or as an HTTP-date', () => {
    const now = Date.parse('Wed, 25 Nov 2026 18:00:00 GMT');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 25 Nov 2026 18:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 17:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('backs off exponentially within ±20% jitter and never past the cap', () => {
    for (let i = 0; i < 200; i++) {
      const first = backoff(1, DEFAULT_RETRY_POLICY);
      expect(first).toBeGreaterThanOrEqual(800);
      expect(first).toBeLessThanOrEqual(1200);
      const third = backoff(3, DEFAULT_RETRY_POLICY);
      expect(third).toBeGreaterThanOrEqual(1800);
      expect(third).toBeLessThanOrEqual(2700);
      expect(backoff(20, DEFAULT_RETRY_POLICY)).toBeLessThanOrEqual(6000);
    }
  });
});

describe('shutting down with no collector running', () => {
  // Retries a refused connection 3 s later: waiting for one shows as a shutdown of 3 s or more.
  const SLOW_RETRY = { maxAttempts: 5, initialBackoffMillis: 3000, maxBackoffMillis: 3000 };

  async function refusingExporter(warn: (message: string) => void): Promise<OtlpHttpExporter> {
    return new OtlpHttpExporter({
      url: `http://127.0.0.1:${await closedPort()}/v1/traces`,
      retry: SLOW_RETRY,
      warn,
    });
  }

  it('gives up on the refused connection at once, and says the last spans are dropped', async () => {
    const warn = vi.fn();
    const processor = processorFor(await refusingExporter(warn), { shutdownTimeoutMillis: 20_000 });
    processor.onEnd(makeSpan());
    processor.onEnd(makeSpan());

    const startedAt = Date.now();
    await processor.shutdown();

    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(processor.stats).toMatchObject({ exportFailures: 1, droppedExportFailed: 2, spansExported: 0 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/cannot send the last spans to .*nothing is listening there/);
    expect(warn.mock.calls[0]![0]).not.toMatch(/try again/);
  });

  it('stops an export already waiting to retry when the shutdown begins', async () => {
    const warn = vi.fn();
    const processor = processorFor(await refusingExporter(warn), { shutdownTimeoutMillis: 20_000 });
    processor.onEnd(makeSpan());
    const flushed = processor.forceFlush();
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1)); // refused once, now waiting 3 s

    const startedAt = Date.now();
    await processor.shutdown();
    await flushed;

    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(processor.stats).toMatchObject({ exportFailures: 1, droppedExportFailed: 1 });
  });

  it('does the same behind a SimpleSpanProcessor, whose exports are under way when it shuts down', async () => {
    const warn = vi.fn();
    const processor = new SimpleSpanProcessor(await refusingExporter(warn));
    processor.onEnd(makeSpan());
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));

    const startedAt = Date.now();
    await processor.shutdown();

    expect(Date.now() - startedAt).toBeLessThan(2000);
  });

  it('keeps retrying a refused connection while the app runs: a collector restarting comes back', async () => {
    const warn = vi.fn();
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${await closedPort()}/v1/traces`,
      retry: { maxAttempts: 3, initialBackoffMillis: 200, maxBackoffMillis: 200 },
      warn,
    });
    const startedAt = Date.now();
    const result = await exporter.export([makeSpan()]);
    expect(result.code).toBe(1);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300); // two waits of 200 ms ±20%
    expect(warn.mock.calls[0]![0]).toMatch(/Later batches try again/);
    await exporter.shutdown();
  });
});

import http from 'node:http';
// nock 13 replaces http.request and http.ClientRequest as it loads: it must come before the instrumentation, as in
// a test suite that requires it in a setup file.
import nock from 'nock13';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withSpan } from '../src/context.js';
import { SpanKind, SpanStatusCode } from '../src/span-data.js';
import { type Harness, installHarness } from './outgoing-harness.js';

let harness: Harness;

beforeAll(() => {
  harness = installHarness();
});
afterEach(() => {
  nock.cleanAll();
  harness.spans.length = 0;
});
afterAll(() => {
  harness.uninstall();
  nock.restore();
});

/** A `http.get` under a server span, as a handler makes it; resolves with the status or the error's code. */
function getInRequest(url: string, timeoutMillis?: number): Promise<string> {
  const parent = harness.tracer.startSpan('GET /orders', { kind: SpanKind.SERVER });
  return withSpan(
    parent,
    () =>
      new Promise<string>((resolve) => {
        const request = http.get(url, (response) => {
          response.resume();
          response.on('end', () => resolve(String(response.statusCode)));
        });
        request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        if (timeoutMillis !== undefined) {
          request.setTimeout(timeoutMillis, () =>
            request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
          );
        }
      }),
  );
}

function clientSpans() {
  return harness.spans.filter((span) => span.kind === SpanKind.CLIENT);
}

describe('calls answered by nock 13, loaded before the instrumentation', () => {
  it('ends the client span with the mocked status, once the response has been read', async () => {
    let traceparent: string | undefined;
    nock('http://api.test')
      .get('/users/7')
      .reply(function reply() {
        traceparent = this.req.headers['traceparent'] as string | undefined;
        return [200, 'ok'];
      });

    expect(await getInRequest('http://api.test/users/7')).toBe('200');

    const [span] = clientSpans();
    expect(clientSpans()).toHaveLength(1);
    expect(span?.attributes['http.response.status_code']).toBe(200);
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(traceparent).toBe(`00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`);
    expect(harness.tracer.stats.spansEnded).toBe(harness.tracer.stats.spansStarted - 1);
  });

  it('records a mocked 5xx as an error', async () => {
    nock('http://api.test').get('/fail').reply(503, 'down');

    expect(await getInRequest('http://api.test/fail')).toBe('503');

    const [span] = clientSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('503');
  });

  it('records a mocked network error with its code', async () => {
    nock('http://api.test').get('/refused').replyWithError({ code: 'ECONNREFUSED', message: 'refused' });

    expect(await getInRequest('http://api.test/refused')).toBe('ECONNREFUSED');

    const [span] = clientSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('ECONNREFUSED');
  });

  it('records a call the caller timed out while the mock delayed its answer', async () => {
    nock('http://api.test').get('/slow').delay(300).reply(200, 'late');

    expect(await getInRequest('http://api.test/slow', 30)).toBe('ETIMEDOUT');

    const [span] = clientSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('ETIMEDOUT');
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, RetryAgent, request } from 'undici6';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withSpan } from '../src/context.js';
import type { Span } from '../src/span.js';
import { type Harness, installHarness, parseTraceparent } from './outgoing-harness.js';

// undici follows redirects and retries by dispatching the next hop itself, from the callback of the pooled socket
// that read the previous answer. That socket keeps the context of whoever opened it: another request's trace.

const received: { path: string; traceparent: string | undefined }[] = [];
const server = http.createServer((req, res) => {
  received.push({ path: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
  if (req.url === '/moved') res.writeHead(302, { location: '/target' }).end();
  else if (req.url === '/flaky') res.writeHead(503).end();
  else res.end('ok');
});
let base = '';
let harness: Harness | undefined;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  harness?.uninstall();
  received.length = 0;
});

/** Trace A opens the agent's keep-alive connection; trace B then calls through it. Returns B's span. */
async function afterAnotherTrace(agent: Agent, call: () => Promise<unknown>): Promise<Span> {
  harness = installHarness();
  const { tracer } = harness;
  const a = tracer.startSpan('A');
  await withSpan(a, async () => (await request(`${base}/warm`, { dispatcher: agent })).body.text());
  a.end();
  // Idle, as between two requests to a server: the next read comes from the socket, not from the last one's tail.
  await new Promise((r) => setTimeout(r, 100));
  const b = tracer.startSpan('B');
  await withSpan(b, call);
  b.end();
  return b;
}

describe('undici 6 hops that undici dispatches itself', () => {
  it('keep a redirect in the trace of the call that followed it', async () => {
    const agent = new Agent();
    const b = await afterAnotherTrace(agent, async () =>
      (await request(`${base}/moved`, { dispatcher: agent, maxRedirections: 2 })).body.text(),
    );
    await agent.close();

    const hops = harness!.spans.filter((s) => s.name === 'GET' && s.parentSpanId === b.spanContext().spanId);
    expect(hops.map((s) => s.attributes['url.full'])).toEqual([`${base}/moved`, `${base}/target`]);
    const target = received.find((r) => r.path === '/target');
    expect(parseTraceparent(target?.traceparent).traceId).toBe(b.spanContext().traceId);
    expect(parseTraceparent(target?.traceparent).spanId).toBe(hops[1]?.spanContext().spanId);
  });

  it('keep a retry in the trace of the call that retried', async () => {
    const agent = new Agent();
    const retrying = new RetryAgent(agent, { maxRetries: 1, minTimeout: 5, timeoutFactor: 1 });
    const b = await afterAnotherTrace(agent, () =>
      request(`${base}/flaky`, { dispatcher: retrying }).catch(() => undefined),
    );
    await agent.close();

    const attempts = received.filter((r) => r.path === '/flaky');
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(parseTraceparent(attempt.traceparent).traceId).toBe(b.spanContext().traceId);
    }
    const children = harness!.spans.filter((s) => s.parentSpanId === b.spanContext().spanId);
    expect(children).toHaveLength(2);
  });
});

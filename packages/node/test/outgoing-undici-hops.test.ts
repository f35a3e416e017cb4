import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as undici7 from 'undici';
import * as undici6 from 'undici6';
import type * as Undici8 from 'undici8';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getActiveSpan, withSpan } from '../src/context.js';
import type { Span } from '../src/span.js';
import { type Harness, installHarness, parseTraceparent } from './outgoing-harness.js';

// undici follows redirects and retries by dispatching the next hop itself, from the callback of the pooled socket
// that read the previous answer. That socket keeps the context of whoever opened it: another request's trace.

/** undici 8 needs Node 22.19 or later: it does not load on older Nodes, so its cases run under the newer ones. */
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const undici8 = major > 22 || (major === 22 && minor >= 19) ? await import('undici8') : undefined;

const received: { path: string; traceparent: string | undefined }[] = [];
/**
 * Past undici's body buffer (64 KiB), so its parser stops inside the body, and small enough that the answer after
 * it is read off the socket before the body is: 100 KB reproduced every run, 400 KB none.
 */
const LARGE_BODY = 100_000;
const server = http.createServer((req, res) => {
  received.push({ path: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
  if (req.url === '/moved') res.writeHead(302, { location: '/target' }).end();
  else if (req.url === '/flaky') res.writeHead(503).end();
  else if (req.url === '/large') res.end(Buffer.alloc(LARGE_BODY, 'x'));
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

type Undici = typeof undici6 | typeof undici7 | typeof Undici8;
type Agent = InstanceType<Undici['Agent']>;

/** Trace A opens the agent's keep-alive connection; trace B then calls through it. Returns B's span. */
async function afterAnotherTrace(u: Undici, agent: Agent, call: () => Promise<unknown>): Promise<Span> {
  harness = installHarness();
  const { tracer } = harness;
  const a = tracer.startSpan('A');
  await withSpan(a, async () =>
    (await u.request(`${base}/warm`, { dispatcher: agent as never })).body.text(),
  );
  a.end();
  // Idle, as between two requests to a server: the next read comes from the socket, not from the last one's tail.
  await new Promise((r) => setTimeout(r, 100));
  const b = tracer.startSpan('B');
  await withSpan(b, call);
  b.end();
  return b;
}

/** How each major version follows redirects: an option in 6, an interceptor since 7. */
const redirecting = {
  6: (agent: Agent) => ({ dispatcher: agent as never, maxRedirections: 2 }),
  7: (agent: Agent) => ({
    dispatcher: (agent as undici7.Agent).compose(undici7.interceptors.redirect({ maxRedirections: 2 })),
  }),
  8: (agent: Agent) => ({
    dispatcher: (agent as Undici8.Agent).compose(undici8!.interceptors.redirect({ maxRedirections: 2 })),
  }),
};

/** The request's handler of response chunks: renamed in undici 8. */
const onData = { 6: 'onData', 7: 'onData', 8: 'onResponseData' } as const;

/**
 * Dispatches a GET with a handler of undici `major`'s interface that records `active()` in each response handler;
 * resolves to what it saw, `complete` last.
 */
function dispatchRecording(
  major: 6 | 7 | 8,
  dispatch: (handler: unknown) => void,
  active: () => string | undefined,
): Promise<string[]> {
  return new Promise<string[]>((resolve, reject) => {
    const seen: string[] = [];
    const headers = () => seen.push(`headers ${active()}`) > 0;
    const data = () => seen.push(`data ${active()}`) > 0;
    const complete = () => resolve([...seen, `complete ${active()}`]);
    // undici 8 takes only the handler interface undici 7 added beside the first one.
    dispatch(
      major === 8
        ? {
            onRequestStart() {},
            onResponseStart: headers,
            onResponseData: data,
            onResponseEnd: complete,
            onResponseError: (_: unknown, error: unknown) => reject(error),
          }
        : { onConnect() {}, onHeaders: headers, onData: data, onComplete: complete, onError: reject },
    );
  });
}

describe.each([
  [6, undici6 as Undici],
  [7, undici7 as Undici],
  [8, (undici8 ?? undici7) as Undici],
] as const)('undici %i: hops that undici dispatches itself', (major, u) => {
  if (major === 8 && undici8 === undefined) {
    it.skip(`needs Node 22.19 or later (this is ${process.versions.node})`);
    return;
  }

  it('keep a redirect in the trace of the call that followed it', async () => {
    const agent = new u.Agent();
    const b = await afterAnotherTrace(u, agent, async () =>
      (await u.request(`${base}/moved`, redirecting[major](agent) as never)).body.text(),
    );
    await agent.close();

    const hops = harness!.spans.filter((s) => s.name === 'GET' && s.parentSpanId === b.spanContext().spanId);
    expect(hops.map((s) => s.attributes['url.full'])).toEqual([`${base}/moved`, `${base}/target`]);
    const target = received.find((r) => r.path === '/target');
    expect(parseTraceparent(target?.traceparent).traceId).toBe(b.spanContext().traceId);
    expect(parseTraceparent(target?.traceparent).spanId).toBe(hops[1]?.spanContext().spanId);
  });

  it('leave a response handler another instrumentation put on the request in place, and still trace the call', async () => {
    let wrapped = 0;
    // Subscribed before tracing is installed, so it sees each request first, as an APM agent loaded earlier would.
    const wrapOnData = (message: unknown) => {
      const request = (message as { request: Record<string, (...args: unknown[]) => unknown> }).request;
      const original = request[onData[major]]!;
      request[onData[major]] = function (this: unknown, ...args: unknown[]) {
        wrapped++;
        return Reflect.apply(original, this, args);
      };
    };
    diagnosticsChannel.subscribe('undici:request:create', wrapOnData);
    try {
      const agent = new u.Agent();
      const b = await afterAnotherTrace(u, agent, async () =>
        (await u.request(`${base}/large`, { dispatcher: agent as never })).body.text(),
      );
      await agent.close();
      expect(wrapped).toBeGreaterThan(0);
      const call = harness!.spans.find((s) => s.attributes['url.full'] === `${base}/large`);
      expect(call?.parentSpanId).toBe(b.spanContext().spanId);
      const sent = received.find((r) => r.path === '/large');
      expect(parseTraceparent(sent?.traceparent).spanId).toBe(call?.spanContext().spanId);
    } finally {
      diagnosticsChannel.unsubscribe('undici:request:create', wrapOnData);
    }
  });

  it('keep a retry in the trace of the call that retried', async () => {
    const agent = new u.Agent();
    const retrying = new u.RetryAgent(agent as never, { maxRetries: 1, minTimeout: 5, timeoutFactor: 1 });
    const b = await afterAnotherTrace(u, agent, () =>
      u.request(`${base}/flaky`, { dispatcher: retrying as never }).catch(() => undefined),
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

  it("run the response's handlers in the async scope of the call: the app's own AsyncLocalStorage too", async () => {
    harness = installHarness();
    const { tracer } = harness;
    // An app's request id, kept as loggers and request-scoped containers keep theirs.
    const requestId = new AsyncLocalStorage<string>();
    const agent = new u.Agent();
    try {
      const a = tracer.startSpan('A');
      await requestId.run('a', () =>
        withSpan(a, async () =>
          (await u.request(`${base}/warm`, { dispatcher: agent as never })).body.text(),
        ),
      );
      a.end();
      await new Promise((r) => setTimeout(r, 100));
      const b = tracer.startSpan('B');
      const active = () => `${requestId.getStore()} ${getActiveSpan() === b ? 'B' : 'other'}`;
      const seen = await requestId.run('b', () =>
        withSpan(b, () =>
          dispatchRecording(
            major,
            (handler) => agent.dispatch({ origin: base, path: '/small', method: 'GET' }, handler as never),
            active,
          ),
        ),
      );
      b.end();
      // The pooled socket A opened answers B: without the switch the handlers ran in A's scope.
      expect(seen).toEqual(['headers b B', 'data b B', 'complete b B']);
    } finally {
      await agent.close();
    }
  });

  it("leave the code that reads a pipelined answer in its own trace while the next one's handlers run", async () => {
    harness = installHarness();
    const { tracer } = harness;
    const client = new u.Client(base, { pipelining: 2 }) as undici7.Client;
    try {
      const a = tracer.startSpan('A');
      const b = tracer.startSpan('B');
      const active = () =>
        ({ [a.spanContext().spanId]: 'A', [b.spanContext().spanId]: 'B' })[
          getActiveSpan()?.spanContext().spanId ?? ''
        ];
      const activeInA = withSpan(a, async () => {
        const { body } = await client.request({ path: '/large', method: 'GET' });
        // By now B's answer waits on the socket behind the rest of this body; reading the body resumes undici's
        // parser, which reaches B's answer inside this loop and runs B's handlers there.
        await new Promise((r) => setTimeout(r, 100));
        let bytes = 0;
        for await (const chunk of body) bytes += (chunk as Buffer).length;
        expect(bytes).toBe(LARGE_BODY);
        const afterBody = active();
        await new Promise((r) => setTimeout(r, 1));
        return [afterBody, active()];
      });
      // B's own handler runs where undici parses B's answer: inside A's loop.
      const activeInB = withSpan(b, () =>
        dispatchRecording(
          major,
          (handler) => client.dispatch({ path: '/small', method: 'GET' }, handler as never),
          active,
        ),
      );
      expect(await activeInA).toEqual(['A', 'A']);
      expect(await activeInB).toEqual(['headers B', 'data B', 'complete B']);
      const children = (span: Span) =>
        harness!.spans.filter((s) => s.parentSpanId === span.spanContext().spanId);
      expect(children(a).map((s) => s.attributes['url.full'])).toEqual([`${base}/large`]);
      expect(children(b).map((s) => s.attributes['url.full'])).toEqual([`${base}/small`]);
    } finally {
      await client.close();
    }
  });
});

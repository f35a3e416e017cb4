import { mkdtempSync, rmSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingOptions } from '../src/outgoing-options.js';
import { consume, parseTraceparent, waitForSpans } from './outgoing-harness.js';
import { httpModes, installHttpMode, type ModeHarness } from './outgoing-http-modes.js';

// Docker and many local daemons are called over a Unix domain socket: `http.request({ socketPath, path })`.

let directory: string;
let socketPath: string;
let server: http.Server;
const received: IncomingHttpHeaders[] = [];
let harness: ModeHarness | undefined;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'tracewire-socket-'));
  socketPath = join(directory, 'daemon.sock');
  server = http.createServer((req, res) => {
    received.push(req.headers);
    res.end('[]');
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(directory, { recursive: true, force: true });
});
afterEach(() => {
  harness?.uninstall();
  harness = undefined;
  received.length = 0;
});

async function callDaemon(mode: (typeof httpModes)[number], options?: OutgoingOptions) {
  harness = installHttpMode(mode, options);
  const h = harness;
  const req = h.send(() => http.request({ socketPath, path: '/v1.43/containers/json?all=1' }));
  req.end();
  expect((await consume(req)).body).toBe('[]');
  await waitForSpans(h.spans, 1);
  return h.spans;
}

describe.each(httpModes)('a call over a Unix domain socket (%s)', (mode) => {
  it('records the socket, not localhost:80, and carries the trace to the daemon', async () => {
    const [span] = await callDaemon(mode);
    expect(span?.attributes).toMatchObject({
      'http.request.method': 'GET',
      'server.address': socketPath,
      'network.peer.address': socketPath,
      'network.transport': 'unix',
      'url.full': `http+unix://${encodeURIComponent(socketPath)}/v1.43/containers/json?all=1`,
      'http.response.status_code': 200,
    });
    expect(span?.attributes['server.port']).toBeUndefined();
    expect(parseTraceparent(received[0]?.traceparent).spanId).toBe(span?.spanContext().spanId);
  });

  it('is judged by its socket path in the destination rules, never as localhost', async () => {
    await callDaemon(mode, { doNotPropagateTo: ['localhost', 'localhost:80', 'http://localhost/'] });
    expect(received[0]?.traceparent).toBeDefined();
    harness?.uninstall();

    const spans = await callDaemon(mode, { doNotPropagateTo: [socketPath] });
    expect(received[1]?.traceparent).toBeUndefined();
    expect(spans).toHaveLength(1);
    harness?.uninstall();

    await callDaemon(mode, { propagateTo: [/\.sock\//] });
    expect(received[2]?.traceparent).toBeDefined();
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { builtinShared } from '../src/builtin-shared.js';
import { FailureWarning, rateLimitedWarn } from '../src/exporters/failure-warning.js';
import { OtlpHttpExporter } from '../src/exporters/otlp-http-exporter.js';
import { closedPort, type Receiver, startReceiver } from './fixtures/receiver.js';
import { makeSpan } from './fixtures/spans.js';

const URL_SHOWN = 'http://collector:4318/v1/traces';
const MINUTE = 60_000;
const refused = new Error('connect ECONNREFUSED');
const unavailable = new Error('HTTP 503');

afterEach(() => {
  vi.useRealTimers();
  // Outages each test reported, which other tracers of the process would not report again for 5 minutes.
  builtinShared.outagesReported.clear();
});

/**
 * A FailureWarning behind a 5-minute limiter, as an exporter has, whose lines land in the returned array, on a
 * clock the test moves. `shared` stands for a tracer's shared limit: `false` when it holds a line back.
 */
function outage(shared?: (message: string) => boolean) {
  vi.useFakeTimers({ now: Date.UTC(2026, 10, 27, 4, 0, 0) });
  const lines: string[] = [];
  const print = (message: string): boolean => {
    if (shared !== undefined && !shared(message)) return false;
    lines.push(message);
    return true;
  };
  const limit = rateLimitedWarn(
    Object.assign(print, { unlimited: (message: string) => void lines.push(message) }),
  );
  return { lines, warning: new FailureWarning('OTLP exporter', URL_SHOWN, limit) };
}

describe('FailureWarning', () => {
  it('reports an outage as it starts, reminds every 5 minutes while exports fail, and reports its end', () => {
    const { lines, warning } = outage();
    warning.failed(refused, true, true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /cannot send spans to http:\/\/collector:4318\/v1\/traces \(nothing is listening/,
    );
    for (let minute = 1; minute <= 12; minute++) {
      vi.advanceTimersByTime(MINUTE);
      warning.failed(refused, true, true);
    }
    // Reminders at minutes 5 and 10, each counting the failed exports so far.
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/still cannot send spans .*: 6 exports failed since 2026-11-27T04:00:00\.000Z/),
      expect.stringMatching(/still cannot send spans .*: 11 exports failed since 2026-11-27T04:00:00\.000Z/),
    ]);
    warning.succeeded();
    expect(lines[3]).toMatch(/is sending spans to .* again \(13 exports failed since 2026-11-27T04:00:00/);
    warning.succeeded();
    expect(lines).toHaveLength(4);
  });

  it('does not report again an outage another tracer of the process reported (a test runner per file)', () => {
    const first = outage();
    const second = outage();
    const elsewhere = new FailureWarning(
      'OTLP exporter',
      'http://other:4318/v1/traces',
      rateLimitedWarn(() => {}),
    );
    first.warning.failed(refused, true, true);
    second.warning.failed(refused, true, true);
    expect(first.lines).toHaveLength(1);
    expect(second.lines).toEqual([]);
    expect(builtinShared.outagesReported.has('http://other:4318/v1/traces')).toBe(false);
    elsewhere.failed(refused, true, true);
    expect(builtinShared.outagesReported.has('http://other:4318/v1/traces')).toBe(true);

    vi.advanceTimersByTime(5 * MINUTE);
    second.warning.failed(refused, true, true);
    expect(second.lines).toEqual([expect.stringMatching(/cannot send spans to http:\/\/collector:4318/)]);
  });

  it('reports a new outage once the limit allows, and a collector that flaps in one line per 5 minutes', () => {
    const { lines, warning } = outage();
    warning.failed(unavailable, false, true);
    vi.advanceTimersByTime(MINUTE);
    warning.succeeded();
    for (let second = 0; second < 120; second++) {
      vi.advanceTimersByTime(1000);
      if (second % 2 === 0) warning.failed(unavailable, false, true);
      else warning.succeeded();
    }
    vi.advanceTimersByTime(3 * MINUTE);
    warning.failed(refused, true, true);
    expect(lines.map((line) => line.match(/cannot send|sending spans .* again/)?.[0])).toEqual([
      'cannot send',
      'sending spans to http://collector:4318/v1/traces again',
      'cannot send',
    ]);
    expect(lines[1]).toMatch(/again \(1 export failed since/);
  });

  it('says no export failed when a retry got through after a refused first attempt', () => {
    const { lines, warning } = outage();
    warning.failed(refused, true, false);
    warning.succeeded();
    // Not "no spans were lost": a full queue may have dropped some meanwhile, which its own line reports.
    expect(lines[1]).toMatch(/again \(a retry got through; no export failed\)/);
  });

  it('tries a line the shared limiter held back again on the next failure', () => {
    let open = false;
    const { lines, warning } = outage(() => open);
    warning.failed(refused, true, true);
    warning.failed(refused, true, true);
    open = true;
    warning.failed(refused, true, true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot send spans/);
  });

  it('stays silent on success when nothing was reported', () => {
    const { lines, warning } = outage(() => false);
    warning.failed(refused, true, true);
    warning.succeeded();
    expect(lines).toHaveLength(0);
  });

  it('keeps a collector error message on one line', () => {
    const { lines, warning } = outage();
    warning.failed(new Error('HTTP 502: bad\r\ngateway\u001b[2J'), false, true);
    expect(lines[0]).toContain('(HTTP 502: bad gateway [2J)');
  });
});

describe('rateLimitedWarn', () => {
  it('lets one line through per interval, answers whether it did, and passes an inner limit through', () => {
    vi.useFakeTimers({ now: 0 });
    const printed: string[] = [];
    const shared = rateLimitedWarn((message) => void printed.push(message));
    const own = rateLimitedWarn(shared);
    expect(shared('queue full')).toBe(true);
    // The processor's own limiter has said nothing yet, but the shared one holds the line back: not counted.
    expect(own('collector down')).toBe(false);
    vi.advanceTimersByTime(5 * MINUTE);
    expect(own('collector down')).toBe(true);
    own.unlimited('collector back');
    expect(printed).toEqual(['queue full', 'collector down', 'collector back']);
  });
});

describe('an exporter built alone', () => {
  it('limits its warnings itself, and ignores what a plain warn function returns', async () => {
    const port = await closedPort();
    const lines: string[] = [];
    // process.stderr.write answers false under back-pressure: that is no limiter holding the line back.
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${port}/v1/traces`,
      retry: { maxAttempts: 2, initialBackoffMillis: 1, maxBackoffMillis: 1 },
      warn: (message) => lines.push(message) < 0,
    });
    for (let i = 0; i < 3; i++) expect((await exporter.export([makeSpan()])).code).toBe(1);
    await exporter.shutdown();
    expect(lines).toEqual([expect.stringMatching(/cannot send spans/)]);
  });
});

describe('what the collector says in a 200 answer', () => {
  let collector: Receiver | undefined;
  afterEach(async () => {
    await collector?.close();
    collector = undefined;
  });

  async function exportTo(
    contentType: string,
    body: string,
    warnThrows = false,
  ): Promise<{ warned: string[]; rejected: number | undefined }> {
    collector = await startReceiver((_req, _i, res) =>
      res.writeHead(200, { 'content-type': contentType }).end(body),
    );
    const warned: string[] = [];
    const exporter = new OtlpHttpExporter({
      url: collector.url,
      protocol: 'http/json',
      warn: (message) => {
        warned.push(message);
        if (warnThrows) throw new Error('logger gone');
      },
    });
    const spans = [makeSpan(), makeSpan(), makeSpan(), makeSpan(), makeSpan()];
    const result = await exporter.export(spans);
    await exporter.export(spans);
    await exporter.shutdown();
    expect(result.code).toBe(0);
    return { warned, rejected: result.rejectedSpans };
  }

  it('reports rejected spans with the collector’s reason, once per 5 minutes', async () => {
    const { warned, rejected } = await exportTo(
      'application/json',
      '{"partialSuccess":{"rejectedSpans":"3","errorMessage":"span name too long"}}',
    );
    expect(rejected).toBe(3);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/rejected 3 of 5 spans: span name too long\. They are counted/);
  });

  it('still counts the export as delivered when the warn function throws', async () => {
    const { warned, rejected } = await exportTo(
      'application/json',
      '{"partialSuccess":{"rejectedSpans":"3","errorMessage":"span name too long"}}',
      true,
    );
    expect(rejected).toBe(3);
    expect(warned).toHaveLength(1);
  });

  it('reports a warning the collector sends with every span taken', async () => {
    const { warned, rejected } = await exportTo(
      'application/json',
      '{"partialSuccess":{"errorMessage":"attribute values truncated"}}',
    );
    expect(rejected).toBe(0);
    expect(warned).toEqual([
      expect.stringMatching(/took every span, with a warning: attribute values truncated/),
    ]);
  });

  it('reports a 200 answer that is not OTLP, such as a login page', async () => {
    const { warned } = await exportTo('text/html', '<!DOCTYPE html><html><body>Sign in</body></html>');
    expect(warned).toEqual([
      expect.stringMatching(/answered an export with text\/html that is not an OTLP response/),
    ]);
  });
});

describe('OTEL_LOG_LEVEL', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  async function warningsOfRefusedExport(level: string | undefined): Promise<string[]> {
    if (level !== undefined) vi.stubEnv('OTEL_LOG_LEVEL', level);
    const printed = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const exporter = new OtlpHttpExporter({
      url: `http://127.0.0.1:${await closedPort()}/v1/traces`,
      retry: { maxAttempts: 1 },
    });
    await exporter.export([makeSpan()]);
    await exporter.shutdown();
    return printed.mock.calls.map(([message]) => String(message));
  }

  it.each(['none', 'error', 'NONE'])('%s silences the warnings tracewire prints itself', async (level) => {
    expect(await warningsOfRefusedExport(level)).toEqual([]);
  });

  it.each([undefined, 'warn', 'info', 'debug', 'bogus'])('%s leaves them on', async (level) => {
    expect(await warningsOfRefusedExport(level)).toEqual([expect.stringMatching(/nothing is listening/)]);
  });
});

import { describe, expect, it } from 'vitest';
import { ConsoleExporter, renderWaterfall } from '../src/exporters/console.js';
import { makeSpan } from './fixtures/spans.js';

const T0 = 1_732_550_000_000;
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c';

function trace() {
  const root = makeSpan({
    spanId: 'aaaaaaaaaaaaaaaa',
    name: 'GET /orders/:id',
    kind: 1,
    startTime: T0,
    endTime: T0 + 100,
  });
  const query = makeSpan({
    spanId: 'bbbbbbbbbbbbbbbb',
    parentSpanId: 'aaaaaaaaaaaaaaaa',
    parentIsRemote: false,
    name: 'SELECT orders',
    kind: 2,
    startTime: T0 + 10,
    endTime: T0 + 40,
    status: { code: 1 },
  });
  const charge = makeSpan({
    spanId: 'cccccccccccccccc',
    parentSpanId: 'aaaaaaaaaaaaaaaa',
    parentIsRemote: false,
    name: 'POST /charge',
    kind: 2,
    startTime: T0 + 50,
    endTime: T0 + 100,
    status: { code: 2, message: 'payment service timed out' },
    resource: { attributes: { 'service.name': 'payments' } },
  });
  return { root, query, charge };
}

describe('renderWaterfall with spans no instrumentation should make', () => {
  const id = (n: number) => n.toString(16).padStart(16, '0');

  it('draws spans whose parents loop (each other, themselves) as roots, each once', () => {
    const spans = [
      makeSpan({ spanId: id(1), parentSpanId: id(2), name: 'a', startTime: T0 }),
      makeSpan({ spanId: id(2), parentSpanId: id(1), name: 'b', startTime: T0 + 1 }),
      makeSpan({ spanId: id(3), parentSpanId: id(3), name: 'self', startTime: T0 + 2 }),
    ];
    const lines = renderWaterfall(spans).trim().split('\n');
    // Before: the header counted 3 spans and no line followed.
    expect(lines).toHaveLength(4);
    // A span naming itself is a root like any other; the loop nobody reaches follows, by start time.
    expect(lines.slice(1).map((line) => line.split(/\s+/)[1])).toEqual(['self', 'a', 'b']);
  });

  it('survives a chain 20,000 spans deep and duplicate span ids, and draws nothing for no spans', () => {
    const deep = Array.from({ length: 20_000 }, (_, i) =>
      makeSpan({ spanId: id(i + 1), parentSpanId: i === 0 ? undefined : id(i), startTime: T0 + i }),
    );
    // Before: RangeError (maximum call stack size exceeded), and forceFlush rejected with it.
    expect(renderWaterfall(deep).trim().split('\n')).toHaveLength(20_001);
    const twins = [makeSpan({ spanId: id(7) }), makeSpan({ spanId: id(7), parentSpanId: id(7) })];
    expect(renderWaterfall(twins).trim().split('\n')).toHaveLength(3);
    expect(renderWaterfall([])).toBe('');
  });

  it('keeps a name with a line break on one line', () => {
    const text = renderWaterfall([makeSpan({ name: 'SELECT *\nFROM orders' })]);
    expect(text.trim().split('\n')).toHaveLength(2);
    expect(text).toContain('SELECT * FROM orders');
  });
});

describe('renderWaterfall', () => {
  it('prints a header, then one line per span: service, indented name, scaled bar, duration, status', () => {
    const { root, query, charge } = trace();
    const lines = renderWaterfall([charge, query, root]).trimEnd().split('\n');
    expect(lines[0]).toBe('trace 4bf92f3577b34da6a3ce929d0e0e4736 · 3 spans · 100.00 ms');
    expect(lines).toHaveLength(4);
    const [rootLine, queryLine, chargeLine] = lines.slice(1) as [string, string, string];
    expect(rootLine).toMatch(/^checkout\s+GET \/orders\/:id\s+\|█{30}\|\s+100\.00 ms$/);
    // Children are indented under their parent and ordered by start time.
    expect(queryLine).toMatch(/^checkout\s+ {2}SELECT orders/);
    expect(queryLine).toContain('|   █████████                  |');
    expect(queryLine).toMatch(/30\.00 ms {2}✓$/);
    expect(chargeLine).toMatch(/^payments\s+ {2}POST \/charge/);
    expect(chargeLine).toContain('|               ███████████████|');
    expect(chargeLine).toMatch(/50\.00 ms {2}✗ payment service timed out$/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
  });

  it('keeps long names and messages within the line and still draws a sliver for instant spans', () => {
    const root = makeSpan({ name: 'x'.repeat(200), startTime: T0, endTime: T0 + 10 });
    const instant = makeSpan({
      parentSpanId: root.spanContext().spanId,
      parentIsRemote: false,
      startTime: T0 + 5,
      endTime: T0 + 5,
      status: { code: 2, message: 'y'.repeat(300) },
    });
    const lines = renderWaterfall([root, instant]).trimEnd().split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    expect(lines[1]).toContain('…');
    expect(lines[2]).toMatch(/\| {15}█ {14}\|/);
  });

  it('keeps the line within 120 columns when a long span’s duration needs more than 10 characters', () => {
    const root = makeSpan({ name: 'GET /export', startTime: T0, endTime: T0 + 150_000 });
    const failed = makeSpan({
      parentSpanId: root.spanContext().spanId,
      parentIsRemote: false,
      startTime: T0,
      endTime: T0 + 150_000,
      status: { code: 2, message: 'y'.repeat(300) },
    });
    const lines = renderWaterfall([root, failed]).trimEnd().split('\n');
    expect(lines[2]).toContain('150000.00 ms  ✗ y');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
  });
  it('shows control characters and bidirectional overrides from names and messages as �, never as terminal commands', () => {
    const root = makeSpan({
      name: 'GET \u001b[1A\u001b[2K\u000bFAKE ROW',
      status: { code: 2, message: '\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007 \u202eevil' },
      resource: { attributes: { 'service.name': 'svc\u009b2J' } },
    });
    const text = renderWaterfall([root]);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(text).toContain('GET �[1A�[2K�FAKE ROW');
    expect(text.trimEnd().split('\n')).toHaveLength(2);
  });

  it('measures wide characters (CJK, emoji) in terminal columns and never cuts one in half', () => {
    const service = { attributes: { 'service.name': '订单服务' } };
    const spans = [
      makeSpan({ spanId: 'aaaaaaaaaaaaaaaa', name: 'GET /用户/:id', endTime: T0 + 10, resource: service }),
      makeSpan({ name: '字'.repeat(20), startTime: T0, endTime: T0 + 10 }),
      makeSpan({ name: `a${'😀'.repeat(20)}`, startTime: T0, endTime: T0 + 10 }),
      makeSpan({ name: 'GET /users/:id', startTime: T0, endTime: T0 + 10 }),
      makeSpan({ name: `✅${'❌⚡🫠'.repeat(10)}`, startTime: T0, endTime: T0 + 10 }),
    ];
    const rows = renderWaterfall(spans.map((span) => ({ ...span, startTime: T0 })))
      .split('\n')
      .slice(1);
    // 订单服务, 用户 and 字 take two columns each, 😀 two: the bar starts where the ASCII row's does.
    expect(rows[3]!.indexOf(' |')).toBe(45);
    expect(rows[0]!.startsWith(`订单服务${' '.repeat(4)} GET /用户/:id${' '.repeat(32 - 13)} |`)).toBe(true);
    expect(rows[1]!.slice(13).startsWith(`${'字'.repeat(15)}…  |`)).toBe(true);
    expect(rows[2]!.slice(13).startsWith(`a${'😀'.repeat(15)}… |`)).toBe(true);
    // Emoji among the older symbols (✅ ❌ ⚡) and the newest (🫠) are two columns as well.
    expect(rows[4]!.slice(13).startsWith(`✅${'❌⚡🫠'.repeat(4)}❌⚡…  |`)).toBe(true);
  });
});
describe('ConsoleExporter', () => {
  it('prints a trace when its local root ends, not before', async () => {
    const output: string[] = [];
    const exporter = new ConsoleExporter({ write: (text) => output.push(text) });
    const { root, query, charge } = trace();
    await exporter.export([query, charge]);
    expect(output).toHaveLength(0);
    await exporter.export([root]);
    expect(output).toHaveLength(1);
    expect(output[0]).toContain('GET /orders/:id');
    expect(output[0]).toContain('SELECT orders');
  });

  it('treats a span continuing a remote parent as the local root', async () => {
    const output: string[] = [];
    const exporter = new ConsoleExporter({ write: (text) => output.push(text) });
    await exporter.export([makeSpan({ parentSpanId: 'b7ad6b7169203331', parentIsRemote: true, kind: 1 })]);
    expect(output).toHaveLength(1);
  });

  it('prints traces whose root has not ended on forceFlush and shutdown', async () => {
    const output: string[] = [];
    const exporter = new ConsoleExporter({ write: (text) => output.push(text) });
    const { query } = trace();
    await exporter.export([
      query,
      makeSpan({ traceId: OTHER_TRACE, parentSpanId: '1234567812345678', parentIsRemote: false }),
    ]);
    expect(output).toHaveLength(0);
    await exporter.forceFlush();
    expect(output).toHaveLength(2);
    await exporter.shutdown();
    expect(output).toHaveLength(2);
  });

  it('prints a trace whose root stays open in parts, instead of holding every span until it ends', async () => {
    const output: string[] = [];
    const exporter = new ConsoleExporter({ write: (text) => output.push(text) });
    // A worker loop's root span, open for the process's life, and the spans of its iterations.
    for (let i = 0; i < 25_000; i++) {
      await exporter.export([makeSpan({ parentSpanId: 'aaaaaaaaaaaaaaaa', parentIsRemote: false })]);
    }
    const printed = (): number =>
      output.reduce((sum, text) => sum + Number(/ · (\d+) spans? · /.exec(text)?.[1] ?? 0), 0);
    expect(output.length).toBeGreaterThanOrEqual(2);
    expect(printed()).toBeGreaterThanOrEqual(15_000);
    await exporter.forceFlush();
    expect(printed()).toBe(25_000);
  });

  it('a failing writer becomes a FAILED result, not a throw', async () => {
    const exporter = new ConsoleExporter({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect((await exporter.export([makeSpan()])).code).toBe(1);
  });
});

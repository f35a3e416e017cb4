import { describe, expect, it } from 'vitest';
// @ts-expect-error: the benchmark's plain-JavaScript report module has no type declarations.
import { report } from '../bench/lib/report.mjs';
// @ts-expect-error: plain JavaScript, no type declarations.
import { cpuTimes, stealShare } from '../bench/lib/steal.mjs';

type Cell = { framework: string; route: string; variant: string; runs: unknown[] };

function cell(framework: string, route: string, variant: string, rps: number, cpu: number): Cell {
  const run = { rps, p50: 1, p99: 2, cpuPerRequest: cpu, sinkCpuPerRequest: 0, loadCpuPerRequest: 25 };
  return {
    framework,
    route,
    variant,
    runs: [{ ...run, rss: 2 ** 26, requests: 1000, spans: 1000, problems: [] }],
  };
}

function render(cells: Cell[], steal?: number): string {
  let text = '';
  report({ version: 'v20.0.0' }, cells, { mode: 'full', steal, write: (chunk: string) => (text += chunk) });
  return text;
}

describe('bench report', () => {
  it('names the rows whose bare server spent clearly more CPU per request than als, and only those', () => {
    const text = render([
      cell('express', 'users', 'bare', 4861, 220),
      cell('express', 'users', 'als', 5828, 189),
      cell('express', 'users', 'tracewire', 5059, 222),
      cell('koa', 'users', 'bare', 21875, 44),
      cell('koa', 'users', 'als', 18784, 53),
      cell('koa', 'users', 'tracewire', 12153, 82),
    ]);
    const warning = text
      .split('\n')
      .find((line) => line.startsWith('bare spent more than 10% (and 5 µs) more CPU'));
    expect(warning).toContain('express GET /users/:id (220 vs 189 µs)');
    expect(warning).not.toContain('koa');
  });

  it('prints no such line when no bare server was clearly the dearer (a few µs is noise)', () => {
    const text = render([
      cell('fastify', 'users', 'bare', 39462, 31),
      cell('fastify', 'users', 'als', 41188, 28),
      cell('fastify', 'users', 'tracewire', 31115, 35),
    ]);
    expect(text).toContain('| fastify | GET /users/:id | 0.79 |');
    expect(text).not.toContain('bare spent more');
  });

  it("prints the share of the machine's CPU time the hypervisor stole while the cells ran, when it is known", () => {
    const cells = [
      cell('fastify', 'users', 'bare', 39462, 31),
      cell('fastify', 'users', 'tracewire', 31115, 35),
    ];
    expect(render(cells, 0.0712)).toContain(
      "Hypervisor steal while these cells ran: 7.1% of the machine's CPU time",
    );
    expect(render(cells)).not.toContain('Hypervisor steal');
  });
});

describe('steal share', () => {
  it('is the stolen part of the CPU time between two readings of /proc/stat', () => {
    expect(stealShare({ total: 1000, steal: 10 }, { total: 3000, steal: 110 })).toBe(0.05);
    expect(stealShare(undefined, { total: 3000, steal: 110 })).toBeUndefined();
    expect(stealShare({ total: 1000, steal: 10 }, { total: 1000, steal: 10 })).toBeUndefined();
  });

  it("reads this machine's counters where /proc/stat exists", () => {
    const times = cpuTimes();
    if (times === undefined) return;
    expect(times.total).toBeGreaterThan(0);
    expect(times.steal).toBeGreaterThanOrEqual(0);
    expect(times.steal).toBeLessThanOrEqual(times.total);
  });
});

// CPU time the hypervisor gave to other guests while this virtual machine wanted it: the `steal` column of the
// `cpu` line in /proc/stat (Linux). Elsewhere, or without that file, it reads as unknown.
import { readFileSync } from 'node:fs';

/** The machine's CPU time so far, all of it and stolen, in clock ticks; undefined where it cannot be read. */
export function cpuTimes() {
  let line;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already counted in user.
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return undefined;
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] };
}

/** The share of the machine's CPU time stolen between two `cpuTimes()` readings, or undefined. */
export function stealShare(before, after) {
  if (before === undefined || after === undefined) return undefined;
  const total = after.total - before.total;
  return total > 0 ? (after.steal - before.steal) / total : undefined;
}

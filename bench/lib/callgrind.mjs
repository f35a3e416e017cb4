// A bench server run under valgrind's callgrind, which counts the instructions the process executes: the same
// count for the same work whatever else the machine does, where CPU time moves by several per cent between runs.
// Counting starts and stops from outside (`callgrind_control`), so start-up and warm-up are left out.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startChild } from './children.mjs';

/** Whether valgrind (with callgrind_control) is on PATH. */
export function hasCallgrind() {
  try {
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `file` under callgrind with counting off. `--single-threaded` puts V8's compiler and garbage collector
 * on the main thread, so their work is counted and happens at the same points in every run; `perfMap` has Node
 * write /tmp/perf-<pid>.map, naming JIT-compiled functions for `selfCostByFunction`; `cacheSim` has callgrind
 * simulate the machine's caches too, and `count` report their misses.
 */
export async function startUnderCallgrind(file, { args, env, execPath, outDir, perfMap, cacheSim = false }) {
  // --perf-basic-prof also turns V8's log on, which would leave an isolate-*.log in the working directory.
  const perfFlags = ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(outDir, 'v8.log')}`];
  const nodeFlags = ['--single-threaded', ...(perfMap ? perfFlags : [])];
  const server = await startChild(file, {
    args,
    env,
    execPath: 'valgrind',
    execArgv: [
      '--tool=callgrind',
      // Not instrumented until counting starts: warm-up runs several times faster.
      '--instr-atstart=no',
      // Its warning that it models the L3 cache as the last level goes to a log, not into the report's stderr.
      ...(cacheSim ? ['--cache-sim=yes', `--log-file=${join(outDir, 'valgrind.%p.log')}`] : []),
      `--callgrind-out-file=${join(outDir, 'callgrind.%p')}`,
      '-q',
      execPath,
      ...nodeFlags,
    ],
    timeoutMs: 180_000,
  });
  const pid = server.info.pid;
  return {
    server,
    pid,
    /** Counts instructions (and with `cacheSim`, cache misses) while `work` runs; returns the totals. */
    async count(work) {
      execFileSync('callgrind_control', ['--instr=on', String(pid)], { stdio: 'ignore' });
      execFileSync('callgrind_control', ['--zero', String(pid)], { stdio: 'ignore' });
      await work();
      execFileSync('callgrind_control', ['--dump=measured', String(pid)], { stdio: 'ignore' });
      execFileSync('callgrind_control', ['--instr=off', String(pid)], { stdio: 'ignore' });
      const { dump, text } = measuredDump(outDir, pid);
      const totals = eventTotals(text);
      if (totals.Ir === undefined) throw new Error(`${dump} has no instruction total`);
      return { instructions: totals.Ir, misses: cacheSim ? cacheMisses(totals) : undefined, dump };
    },
    /** Resolves once the process has exited (callgrind writes its last dump then). */
    async stop() {
      const exited = new Promise((resolve) => {
        if (server.child.exitCode !== null || server.child.signalCode !== null) resolve();
        else server.child.once('exit', resolve);
      });
      server.stop();
      await exited;
      if (perfMap) rmSync(`/tmp/perf-${pid}.map`, { force: true });
    },
  };
}

function measuredDump(outDir, pid) {
  for (const name of readdirSync(outDir)) {
    if (!name.startsWith(`callgrind.${pid}`)) continue;
    const dump = join(outDir, name);
    const text = readFileSync(dump, 'utf8');
    // The dump's header names what triggered it: `--dump=measured`, not the one written at exit.
    if (text.slice(0, 2000).includes('measured')) return { dump, text };
  }
  throw new Error(`callgrind wrote no dump for process ${pid} in ${outDir}`);
}

/** The dump's totals by event name (`Ir`, and with the cache simulated `I1mr`, `D1mr`, `DLmw`, ...). */
function eventTotals(text) {
  const events = /^events: (.*)$/m.exec(text)?.[1].trim().split(/\s+/) ?? [];
  const values = /^(?:summary|totals): (.*)$/m.exec(text)?.[1].trim().split(/\s+/) ?? [];
  return Object.fromEntries(events.map((name, i) => [name, Number(values[i] ?? 0)]));
}

/**
 * Misses of the simulated first-level instruction and data caches (a miss there is served by the next level,
 * some ten cycles) and of the last level (served by memory, a hundred or more). Both cost time the instruction
 * count does not show: code and data a request touches once, cold, cost more per instruction than a loop's.
 */
function cacheMisses(t) {
  return {
    instructionL1: t.I1mr ?? 0,
    dataL1: (t.D1mr ?? 0) + (t.D1mw ?? 0),
    lastLevel: (t.ILmr ?? 0) + (t.DLmr ?? 0) + (t.DLmw ?? 0),
  };
}

/**
 * The rows `callgrind_annotate` prints for a dump, each function's instructions (its own, or `inclusive` of all it
 * calls) and its name as annotate gives it (`file:function`, `???:0x…` for JIT code); the totals row left out.
 */
function annotatedRows(dump, inclusive) {
  const text = annotate(dump, [`--inclusive=${inclusive ? 'yes' : 'no'}`]);
  const rows = [];
  for (const line of text.split('\n')) {
    const match = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line);
    if (match === null || match[2].includes('PROGRAM TOTALS')) continue;
    rows.push({ instructions: Number(match[1].replaceAll(',', '')), name: match[2] });
  }
  return rows;
}

function annotate(dump, args) {
  // Instructions only: a dump with the caches simulated has a column per event.
  return execFileSync('callgrind_annotate', [...args, '--show=Ir', '--threshold=100', dump], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * Who calls the functions whose names contain `pattern` (`KeyedStoreIC_Megamorphic`), from a dump: per caller, the
 * instructions its calls into them cost (all they run, inclusive), divided by `per`. Callers are named as in
 * `selfCostByFunction`: V8's builtins say how generic an access is, their callers say whose access it is.
 */
export function callerCosts(dump, pid, per, pattern) {
  const names = jitNames(`/tmp/perf-${pid}.map`);
  const costs = new Map();
  // `--tree=caller` prints a block per function: its callers (`<`), then the function itself (`*`).
  let callers = [];
  for (const line of annotate(dump, ['--inclusive=yes', '--tree=caller']).split('\n')) {
    const match = /^\s*([\d,]+) \([^)]*\)\s+([<*])\s+(\S+)/.exec(line);
    if (match === null) {
      callers = [];
      continue;
    }
    const [, count, mark, annotated] = match;
    if (mark === '<') {
      callers.push({ instructions: Number(count.replaceAll(',', '')), name: functionName(annotated, names) });
      continue;
    }
    if (annotated.includes(pattern))
      for (const caller of callers)
        costs.set(caller.name, (costs.get(caller.name) ?? 0) + caller.instructions / per);
    callers = [];
  }
  return costs;
}

/** A function as `callgrind_annotate` names it, JIT code (`???:0x…`) named from the perf map. */
function functionName(annotated, names) {
  const address = /^\?\?\?:0x([0-9a-f]+)/.exec(annotated);
  return address === null
    ? annotated.replace(/^\S*?:/, '')
    : inCheckout(names(Number.parseInt(address[1], 16)));
}

/**
 * Self instructions per function in a dump, divided by `per`. JIT code is named from the process's perf map;
 * where V8 reused an address for newer code, the newer entry wins (the dump covers a steady state, late in the run).
 */
export function selfCostByFunction(dump, pid, per) {
  const names = jitNames(`/tmp/perf-${pid}.map`);
  const costs = new Map();
  for (const { instructions, name: annotated } of annotatedRows(dump, false)) {
    const name = functionName(annotated, names);
    costs.set(name, (costs.get(name) ?? 0) + instructions / per);
  }
  return costs;
}

/**
 * Instructions per request spent inside V8's optimizing compilers and inside its garbage collector (each counted
 * with everything they call), from a dump: the two parts of a count that move with where V8 happens to compile a
 * late-hot function or collect, rather than with the work a request does.
 */
export function runtimeShares(dump, per) {
  const shares = { compiling: 0, collecting: 0 };
  const entries = [
    ['compiling', 'v8::internal::Compiler::CompileOptimized('],
    ['collecting', 'v8::internal::Heap::CollectGarbage('],
  ];
  for (const { instructions, name } of annotatedRows(dump, true)) {
    const bare = name.replace(/^\S*?:/, '');
    for (const [share, prefix] of entries) {
      if (bare.startsWith(prefix)) shares[share] = Math.max(shares[share], instructions / per);
    }
  }
  return shares;
}

/**
 * `JS:*bytes /work/x/packages/node/dist/index.cjs:1160:8` → `JS:*bytes packages/node/dist/index.cjs`: the same
 * function in two checkouts, whose builds put it on other lines, gets one name.
 */
function inCheckout(name) {
  return name.replace(/ \S*?\/((?:packages|node_modules|bench)\/\S*?)(?::\d+:\d+)?$/, ' $1');
}

function jitNames(mapPath) {
  if (!existsSync(mapPath)) return () => 'JIT code';
  const entries = readFileSync(mapPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, order) => {
      const [start, size, ...name] = line.split(' ');
      const from = Number.parseInt(start, 16);
      return { from, to: from + Number.parseInt(size, 16), order, name: name.join(' ') };
    })
    .sort((a, b) => a.from - b.from);
  return (address) => {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].from <= address) lo = mid + 1;
      else hi = mid;
    }
    let best;
    for (let i = lo - 1; i >= 0 && i >= lo - 200; i--) {
      const e = entries[i];
      if (address < e.to && (best === undefined || e.order > best.order)) best = e;
    }
    return best?.name ?? 'JIT code';
  };
}

import { afterEach, expect, it } from 'vitest';
import { watchSelfSignals } from '../src/self-signal-watch.js';

// process.kill stands in for the real one (no signal is sent): what the watch tells apart is who the signal is for.
const realKill = process.kill;
afterEach(() => {
  process.kill = realKill;
});

it('sees every way a process sends itself SIGTERM or SIGINT, and nothing else', () => {
  const sent: unknown[][] = [];
  process.kill = ((...args: unknown[]) => {
    sent.push(args);
    return true;
  }) as typeof process.kill;
  const seen: string[] = [];
  const undo = watchSelfSignals(['SIGTERM', 'SIGINT'], (signal) => seen.push(signal));
  const kill = process.kill as (pid: number, signal?: unknown) => true;
  const pid = process.pid;

  kill(pid, 'SIGTERM');
  kill(pid); // process.kill's default
  kill(pid, null); // Node sends SIGTERM for null, '', false and NaN too
  kill(pid, '');
  kill(pid, false);
  kill(pid, Number.NaN);
  kill(pid, 2); // SIGINT by number
  kill(0, 'SIGINT'); // this process's group
  kill(-pid, 'SIGTERM'); // the group it leads (the review found this one lost: the process died unflushed)
  expect(seen).toEqual([
    'SIGTERM',
    'SIGTERM',
    'SIGTERM',
    'SIGTERM',
    'SIGTERM',
    'SIGTERM',
    'SIGINT',
    'SIGINT',
    'SIGTERM',
  ]);

  seen.length = 0;
  kill(pid, 0); // is it alive: no signal
  kill(pid, 'SIGHUP');
  kill(pid + 1, 'SIGTERM');
  expect(seen).toEqual([]);
  expect(sent).toHaveLength(12); // every call went on to the real kill, unchanged

  undo();
  kill(pid, 'SIGTERM');
  expect(seen).toEqual([]);
  expect(process.kill).not.toBe(realKill); // the stand-in put back, not Node's own
});

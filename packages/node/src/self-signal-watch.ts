import { constants } from 'node:os';

type Kill = typeof process.kill;

/**
 * Calls `beforeSending(signal)` whenever the process sends itself one of `signals` with `process.kill`, just before
 * it goes: Node tells a listener nothing of who sent a signal, and with no listener left it applies the default
 * action (the process dies) before any code runs. Returns the undo; a `process.kill` someone put over ours since
 * stays, ours then passing calls straight on.
 */
export function watchSelfSignals(
  signals: readonly NodeJS.Signals[],
  beforeSending: (signal: NodeJS.Signals) => void,
): () => void {
  const original = process.kill;
  let watching = true;
  const watched = function kill(this: unknown, pid: number, signal?: unknown): true {
    if (watching) {
      const name = signalName(signal);
      if (name !== undefined && signals.includes(name) && sentToSelf(pid)) {
        try {
          beforeSending(name);
        } catch {
          // The signal goes out whatever happened here.
        }
      }
    }
    // biome-ignore lint/complexity/noArguments: the caller's arguments go on unchanged, however many.
    return Reflect.apply(original, this, arguments) as true;
  } as Kill;
  process.kill = watched;
  return () => {
    watching = false;
    if (process.kill === watched) process.kill = original;
  };
}

function signalName(signal: unknown): NodeJS.Signals | undefined {
  // As process.kill reads it: an integer is a signal's number (0 only asks whether the pid lives); anything else
  // falsy (nothing, null, '', false, NaN) is SIGTERM; a string is a name.
  if (typeof signal === 'number' && Number.isInteger(signal)) {
    for (const [name, number] of Object.entries(constants.signals))
      if (number === signal) return name as NodeJS.Signals;
    return undefined;
  }
  if (!signal) return 'SIGTERM';
  return typeof signal === 'string' ? (signal as NodeJS.Signals) : undefined;
}

function sentToSelf(pid: unknown): boolean {
  const target = Number(pid);
  // 0 is this process's group; -pid is the group this process leads (a leader killing itself and its children).
  return target === process.pid || target === 0 || target === -process.pid;
}

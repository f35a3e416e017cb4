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
  const watched = function kill(this: unknown, pid: number, signal?: string | number): true {
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

function signalName(signal: string | number | undefined): NodeJS.Signals | undefined {
  if (signal === undefined) return 'SIGTERM'; // process.kill's default
  if (typeof signal === 'string') return signal as NodeJS.Signals;
  for (const [name, number] of Object.entries(constants.signals))
    if (number === signal) return name as NodeJS.Signals;
  return undefined;
}

function sentToSelf(pid: unknown): boolean {
  // 0 is the process group, which this process is in.
  return Number(pid) === process.pid || Number(pid) === 0;
}

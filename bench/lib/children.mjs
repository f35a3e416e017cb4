// Child processes with an IPC channel: start one, wait for its `ready` message, ask it things by id.
import { fork } from 'node:child_process';

let nextId = 1;

/**
 * Forks `file` with `execPath` and resolves once it reports `{ ready: true, ... }`. With `captureStderr` the child's
 * stderr is kept (`handle.stderr()`) instead of passed through, so it cannot land in the middle of a table.
 */
export function startChild(
  file,
  {
    args = [],
    env = {},
    execPath = process.execPath,
    execArgv = [],
    timeoutMs = 30_000,
    captureStderr = false,
  } = {},
) {
  const child = fork(file, args, {
    execPath,
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', captureStderr ? 'pipe' : 'inherit', 'ipc'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const pending = new Map();
  child.on('message', (message) => {
    const resolve = pending.get(message.id);
    if (resolve !== undefined) {
      pending.delete(message.id);
      resolve(message);
    }
  });
  const handle = {
    child,
    info: undefined,
    /** What the child wrote to stderr so far, when started with `captureStderr`. */
    stderr: () => stderr,
    ask(message, askTimeoutMs = 120_000) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${file} ${args.join(' ')} did not answer ${message.cmd} in ${askTimeoutMs} ms`));
        }, askTimeoutMs);
        pending.set(id, (answer) => {
          clearTimeout(timer);
          resolve(answer);
        });
        child.send({ ...message, id });
      });
    },
    /**
     * Disconnecting lets the child exit on its own (writing a --cpu-prof profile, delivering what it still traced);
     * killed if it lingers. Resolves once it has exited.
     */
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.disconnect();
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill();
      }, 5000).unref();
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${file} ${args.join(' ')} did not start in ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} ${args.join(' ')} exited with ${code} before it was ready`));
    };
    child.once('exit', onExit);
    child.on('message', function onReady(message) {
      if (message.ready !== true) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('message', onReady);
      handle.info = message;
      resolve(handle);
    });
  });
}

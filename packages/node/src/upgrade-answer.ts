import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

type Method = (this: Socket, ...args: unknown[]) => unknown;
/** The two methods a raw answer is written with, loosely typed: Node's overloads do not matter here. */
type Patchable = Record<'write' | 'end', Method>;
const METHODS = ['write', 'end'] as const;
export const SWITCHING_PROTOCOLS = 101;

/**
 * A request that asks to upgrade its connection (`Upgrade: websocket`) is often answered by writing `HTTP/1.1 101
 * Switching Protocols` straight to the socket, not through the response: `ws`'s `handleUpgrade` does, as do
 * `@fastify/websocket`, koa-easy-ws and Express routes built on it. The response then never finishes, and only
 * closes with the socket when the WebSocket session ends, hours later perhaps. Node has no event for a write to the
 * socket, so this one socket's own `write` and `end` are shadowed until its next write, then restored; `answered`
 * gets the status of a raw HTTP answer (anything else written first ends the watch unheard). A write made by the
 * response itself (its head is sent by then) is left to the response's own events.
 */
export function watchRawAnswer(
  socket: Socket,
  res: ServerResponse,
  answered: (status: number) => void,
): void {
  const target = socket as unknown as Patchable;
  // Another library may have put its own wrapper on this socket; it is put back as it was.
  const own = METHODS.map((name) => (Object.hasOwn(target, name) ? target[name] : undefined));
  let watching = true;
  const observe = (chunk: unknown): void => {
    if (!watching) return;
    const status = res.headersSent ? undefined : statusLineCode(chunk);
    // An interim answer (`100 Continue`, `103 Early Hints`) comes before the real one.
    if (status !== undefined && status < 200 && status !== SWITCHING_PROTOCOLS) return;
    watching = false;
    METHODS.forEach((name, i) => {
      const method = own[i];
      if (method === undefined) delete (target as Partial<Patchable>)[name];
      else target[name] = method;
    });
    if (status !== undefined) answered(status);
  };
  for (const name of METHODS) {
    const method = target[name];
    target[name] = function watched(this: Socket, ...args: unknown[]) {
      observe(args[0]);
      return Reflect.apply(method, this, args);
    };
  }
}

const STATUS_LINE = 'HTTP/1.';

/**
 * The status of an HTTP/1.x status line at the start of `chunk` (`HTTP/1.1 101 Switching Protocols`), for a
 * string or bytes; `undefined` for anything else (a WebSocket frame, `end()` with no data, a callback).
 */
export function statusLineCode(chunk: unknown): number | undefined {
  let at: (index: number) => number;
  if (typeof chunk === 'string') at = (i) => chunk.charCodeAt(i);
  else if (chunk instanceof Uint8Array) at = (i) => chunk[i] ?? -1;
  else return undefined;
  // "HTTP/1.x NNN": the code's digits are at 9-11, followed by a space or the line's end.
  for (let i = 0; i < STATUS_LINE.length; i++) if (at(i) !== STATUS_LINE.charCodeAt(i)) return undefined;
  if (!isDigit(at(7)) || at(8) !== 0x20) return undefined;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const code = at(i);
    if (!isDigit(code)) return undefined;
    status = status * 10 + code - 0x30;
  }
  const next = at(12);
  if (next !== 0x20 && next !== 0x0d) return undefined;
  return status >= 100 ? status : undefined;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

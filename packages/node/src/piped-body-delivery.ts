import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';

/** Where the socket stood when a body began to be piped into a response. */
export interface PipeStart {
  readonly socket: Socket;
  /** Bytes the socket had carried before (earlier responses on a kept-alive connection, this one's head). */
  readonly bytesBefore: number;
  /** Whether the response's head had gone out before: if not, it goes out with the body's first bytes. */
  readonly headSent: boolean;
}

/** HTTP/1 only: an HTTP/2 compatibility response shares its session's socket with other streams. */
export function pipeStart(res: ServerResponse): PipeStart | undefined {
  const socket = res.socket;
  // `headersSent` is true from `writeHead()` on, but Node writes the head with the first body bytes: only
  // `_headerSent` says it is on the socket already.
  const headSent = (res as { _headerSent?: unknown })._headerSent;
  if (!(socket instanceof Socket) || typeof headSent !== 'boolean') return undefined;
  return { socket, bytesBefore: socket.bytesWritten, headSent };
}

/**
 * Whether a response that closed before its 'finish' had already handed the kernel every byte its
 * `Content-Length` promised. A client that has them all may close the connection at once, before the piped
 * stream has even noticed its own end and ended the response (`fs.createReadStream(file).pipe(res)` behind
 * koa-static or `send`, with the length set from the file's size): that response was delivered, not aborted.
 * Node itself calls a response finished once its bytes are with the kernel; bytes still in Node's buffer do not
 * count.
 */
export function deliveredWhole(res: ServerResponse, start: PipeStart): boolean {
  if (!res.headersSent) return false;
  const promised = promisedLength(res);
  if (promised === undefined) return false;
  const head = start.headSent ? 0 : headLength(res);
  if (head === undefined) return false;
  const { socket } = start;
  const handedOver = socket.bytesWritten - socket.writableLength - start.bytesBefore - head;
  return handedOver >= promised;
}

/** The `Content-Length` sent: set with `setHeader`, or given to `writeHead()` alone (then only in the head). */
function promisedLength(res: ServerResponse): number | undefined {
  let value: unknown = res.getHeader('content-length');
  if (value === undefined) {
    const head = (res as { _header?: unknown })._header;
    if (typeof head === 'string') value = CONTENT_LENGTH_LINE.exec(head)?.[1];
  }
  const length = Number(value);
  return value !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

const CONTENT_LENGTH_LINE = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i;

function headLength(res: ServerResponse): number | undefined {
  // Node keeps the head it wrote as one latin1 string.
  const head = (res as { _header?: unknown })._header;
  return typeof head === 'string' ? Buffer.byteLength(head, 'latin1') : undefined;
}

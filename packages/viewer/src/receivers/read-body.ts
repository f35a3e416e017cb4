import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';

/** A request the receiver refuses, with the HTTP status that says why. */
export class ReceiverError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads the whole body, refusing more than `maxBytes` on the wire or after gunzip (a small gzip body can inflate to
 * gigabytes). `Content-Encoding` may be absent, `identity` or `gzip` (OTLP/HTTP spec §Compression); others are 415.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new ReceiverError(415, `unsupported Content-Encoding "${encoding}"; send gzip or none`);
  }
  const declared = Number(req.headers['content-length']);
  if (declared > maxBytes)
    throw new ReceiverError(413, `body of ${declared} bytes is over the ${maxBytes}-byte limit`);
  // Plain listeners, not `for await`: leaving an async iterator early destroys the socket we still answer on.
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else {
        req.off('data', onData);
        reject(new ReceiverError(413, `body is over the ${maxBytes}-byte limit`));
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
  if (encoding === 'identity') return body;
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: maxBytes }, (error, out) => {
      if (!error) resolve(out);
      else if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        reject(new ReceiverError(413, `body is over the ${maxBytes}-byte limit once decompressed`));
      } else reject(new ReceiverError(400, `body is not valid gzip: ${error.message}`));
    });
  });
}

/** The media type without parameters, lowercased (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'] ?? '';
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

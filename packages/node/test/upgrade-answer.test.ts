import { IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { statusLineCode, watchRawAnswer } from '../src/upgrade-answer.js';

describe('statusLineCode', () => {
  it.each([
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', 101],
    ['HTTP/1.1 400 Bad Request\r\n\r\n', 400],
    ['HTTP/1.0 200 Connection established\r\n\r\n', 200],
    ['HTTP/1.1 426\r\n\r\n', 426],
  ])('reads the status of %j', (line, status) => {
    expect(statusLineCode(line)).toBe(status);
    expect(statusLineCode(Buffer.from(line, 'latin1'))).toBe(status);
  });

  it('reads any three-digit status of an HTTP/1.x line, as a string or as bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 999 }),
        fc.constantFrom('0', '1'),
        fc.constantFrom(' Reason\r\n', '\r\n', ' \r\n'),
        (status, minor, rest) => {
          const line = `HTTP/1.${minor} ${status}${rest}`;
          return statusLineCode(line) === status && statusLineCode(Buffer.from(line, 'latin1')) === status;
        },
      ),
    );
  });

  it('never throws, and finds no status in what does not start with one', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.uint8Array(), fc.anything()), (chunk) => {
        const status = statusLineCode(chunk);
        const text =
          typeof chunk === 'string'
            ? chunk
            : chunk instanceof Uint8Array
              ? Buffer.from(chunk).toString('latin1')
              : '';
        return status === undefined || /^HTTP\/1\.\d \d{3}[ \r]/.test(text);
      }),
    );
  });

  it.each([
    ['a WebSocket text frame', Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f])],
    ['a chunk shorter than a status line', 'HTTP/1.1 10'],
    ['a status of two digits', 'HTTP/1.1 99 Odd\r\n'],
    ['a status of four digits', 'HTTP/1.1 1010 Odd\r\n'],
    ['HTTP/2 text', 'HTTP/2 200\r\n'],
    ['lowercase', 'http/1.1 101 Switching Protocols\r\n'],
    ['no data (end() with none)', undefined],
    ['a callback', () => {}],
  ])('is undefined for %s', (_what, chunk) => {
    expect(statusLineCode(chunk)).toBeUndefined();
  });
});

/** A connected socket pair; `received` collects what the watched end writes. */
async function socketPair(): Promise<{ local: Socket; received: () => string; close: () => void }> {
  let text = '';
  const server = createServer((remote) => {
    remote.setEncoding('latin1');
    remote.on('data', (chunk: string) => {
      text += chunk;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  const local = connect(port, '127.0.0.1');
  await new Promise((r) => local.once('connect', r));
  return {
    local,
    received: () => text,
    close: () => {
      local.destroy();
      server.close();
    },
  };
}

/** Watches `pair.local` for `res` (by default one not yet writing); returns the statuses it reports. */
function watchPair(pair: { local: Socket }, res = new ServerResponse(new IncomingMessage(pair.local))) {
  const answers: number[] = [];
  watchRawAnswer(pair.local, res, (status) => answers.push(status));
  return answers;
}

describe('watchRawAnswer', () => {
  it('reports the status written straight to the socket, passes the bytes on, and steps aside after', async () => {
    const pair = await socketPair();
    try {
      const answers = watchPair(pair);
      pair.local.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      pair.local.write('HTTP/1.1 400 Bad Request\r\n\r\n');
      await new Promise((r) => setTimeout(r, 50));
      expect(answers).toEqual([101]);
      expect(pair.received()).toBe(
        'HTTP/1.1 101 Switching Protocols\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n',
      );
      expect(Object.hasOwn(pair.local, 'write')).toBe(false);
      expect(Object.hasOwn(pair.local, 'end')).toBe(false);
    } finally {
      pair.close();
    }
  });

  it('waits past an interim answer (103 Early Hints) for the real one', async () => {
    const pair = await socketPair();
    try {
      const answers = watchPair(pair);
      pair.local.write('HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n');
      expect(answers).toEqual([]);
      pair.local.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      expect(answers).toEqual([101]);
    } finally {
      pair.close();
    }
  });

  it("reports an answer written by the socket's end(), as ws refuses a handshake", async () => {
    const pair = await socketPair();
    try {
      const answers = watchPair(pair);
      pair.local.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      await new Promise((r) => setTimeout(r, 50));
      expect(answers).toEqual([400]);
      expect(pair.received()).toContain('400 Bad Request');
    } finally {
      pair.close();
    }
  });

  it("leaves a write made by the response (its head already sent) to the response's own events", async () => {
    const pair = await socketPair();
    try {
      const res = new ServerResponse(new IncomingMessage(pair.local));
      res.assignSocket(pair.local);
      const answers = watchPair(pair, res);
      res.writeHead(401).end('no');
      await new Promise((r) => setTimeout(r, 50));
      expect(answers).toEqual([]);
      expect(pair.received()).toMatch(/^HTTP\/1\.1 401 Unauthorized/);
    } finally {
      pair.close();
    }
  });

  it("keeps a method the socket already had as its own (another library's wrapper) once it steps aside", async () => {
    const pair = await socketPair();
    try {
      const writes: unknown[] = [];
      const original = pair.local.write;
      const theirs = function (this: Socket, ...args: unknown[]) {
        writes.push(args[0]);
        return Reflect.apply(original, this, args) as boolean;
      } as Socket['write'];
      pair.local.write = theirs;
      watchPair(pair);
      pair.local.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      expect(pair.local.write).toBe(theirs);
      expect(writes).toHaveLength(1);
    } finally {
      pair.close();
    }
  });
});

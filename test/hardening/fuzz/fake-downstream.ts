import { Duplex } from 'node:stream';

/**
 * A socket for `http.request({ createConnection })` that records the request head exactly as Node writes it and
 * answers `200 ok`: the outgoing call goes through the real `http` client and tracewire's wrapper, without a
 * network round trip.
 */
export function fakeDownstreamSocket(onHead: (raw: string) => void): Duplex {
  let written = '';
  let answered = false;
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer | string, _encoding, callback) {
      written += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
      if (!answered && written.includes('\r\n\r\n')) {
        answered = true;
        onHead(written);
        this.push('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        this.push(null);
      }
      callback();
    },
  });
  const stub = socket as Duplex & Record<string, unknown>;
  stub.setTimeout = () => socket;
  stub.setNoDelay = () => socket;
  stub.setKeepAlive = () => socket;
  stub.ref = () => socket;
  stub.unref = () => socket;
  return socket;
}

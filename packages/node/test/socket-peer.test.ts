import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { peerOf } from '../src/socket-peer.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A connected pair of TCP sockets on 127.0.0.1: [the client's, the server's]. */
async function connectedPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  const serverSide = await accepted;
  cleanups.push(() => {
    client.destroy();
    serverSide.destroy();
  });
  return [client, serverSide];
}

describe('peerOf', () => {
  it("answers each side's peer: the address and port the other side has", async () => {
    const [client, serverSide] = await connectedPair();
    expect(peerOf(serverSide)).toEqual({ address: '127.0.0.1', port: client.localPort });
    expect(peerOf(client)).toEqual({ address: '127.0.0.1', port: serverSide.localPort });
  });

  it("leaves the socket's own properties as they were, where Node's getters add one", async () => {
    const [client, serverSide] = await connectedPair();
    const before = [Reflect.ownKeys(client), Reflect.ownKeys(serverSide)];
    peerOf(client);
    peerOf(serverSide);
    expect([Reflect.ownKeys(client), Reflect.ownKeys(serverSide)]).toEqual(before);
    // What the socket would carry had the getter been read: the difference this spares every socket's hidden class.
    void client.remoteAddress;
    expect(Reflect.ownKeys(client)).not.toEqual(before[0]);
  });

  it("keeps a connection's peer once known: asked again after the socket closed, it still answers", async () => {
    const [client] = await connectedPair();
    const first = peerOf(client);
    client.destroy();
    await new Promise((resolve) => client.once('close', resolve));
    expect(peerOf(client)).toEqual(first);
  });

  it('answers nothing for a socket that never connected', () => {
    expect(peerOf(new net.Socket())).toBeUndefined();
    expect(peerOf(undefined)).toBeUndefined();
  });

  it('reads the getters of a socket without a handle of its own, or whose handle fails', () => {
    expect(peerOf({ remoteAddress: '10.0.0.7', remotePort: 443 })).toEqual({
      address: '10.0.0.7',
      port: 443,
    });
    const failing = {
      _handle: {
        getpeername(): number {
          throw new Error('gone');
        },
      },
      remoteAddress: '::1',
      remotePort: undefined,
    };
    expect(peerOf(failing)).toEqual({ address: '::1', port: undefined });
    expect(peerOf({ remoteAddress: '' })).toBeUndefined();
  });
});

/** What of a connection's socket tells the peer; a Unix domain socket has neither. */
export interface PeerSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

export interface Peer {
  readonly address: string;
  readonly port: number | undefined;
}

/**
 * A connection's peer, read once per connection: `remoteAddress` and `remotePort` are getters that each go through
 * the socket's internals (about 500 instructions a read on Node 20), and a kept-alive connection serves many
 * requests from the same peer. Not kept until known (a socket already closed has none).
 */
const peers = new WeakMap<object, Peer>();

export function peerOf(socket: PeerSocket | null | undefined): Peer | undefined {
  if (socket == null) return undefined;
  let peer = peers.get(socket);
  if (peer === undefined) {
    const address = socket.remoteAddress;
    if (!address) return undefined;
    peer = { address, port: socket.remotePort };
    peers.set(socket, peer);
  }
  return peer;
}

/** What of a connection's socket tells the peer; a Unix domain socket has neither. */
export interface PeerSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
}

export interface Peer {
  readonly address: string;
  readonly port: number | undefined;
}

/** The native handle under a `net.Socket` (TCP, or TLS proxying it), which answers `getpeername` itself. */
interface PeerHandle {
  getpeername?: (out: { address?: unknown; port?: unknown }) => number;
}

/**
 * A connection's peer, read once per connection: a kept-alive connection serves many requests from the same peer,
 * and `remoteAddress` and `remotePort` are getters that each go through the socket's internals (about 500
 * instructions a read on Node 20). Kept here, not on the socket: Node's getters keep what they read as a property
 * they add to the socket (`_peername`), so every socket tracewire looked at took on another hidden class. Node's
 * stream code, which every socket of the process runs through, then met more of them than V8 keeps fast paths for:
 * once a server's `fetch` sockets had it too, `Socket._read`, `Readable.read` and the writable side of every
 * socket went generic (megamorphic), for every request. Not kept until known (a socket already closed has none).
 */
const peers = new WeakMap<object, Peer>();

export function peerOf(socket: PeerSocket | null | undefined): Peer | undefined {
  if (socket == null) return undefined;
  let peer = peers.get(socket);
  if (peer === undefined) {
    peer = askHandle(socket) ?? askSocket(socket);
    if (peer === undefined) return undefined;
    peers.set(socket, peer);
  }
  return peer;
}

/** The peer from the socket's handle, as Node's own getter asks it, leaving the socket as it was. */
function askHandle(socket: PeerSocket): Peer | undefined {
  const out: { address?: unknown; port?: unknown } = {};
  try {
    // An HTTP/2 session's `socket` is a proxy that throws once the session let its socket go.
    const handle = (socket as { _handle?: PeerHandle | null })._handle;
    if (handle == null || typeof handle.getpeername !== 'function') return undefined;
    // Non-zero: not connected (yet, or any more); the getters then answer what Node kept, if anything.
    if (handle.getpeername(out) !== 0) return undefined;
  } catch {
    return undefined;
  }
  if (typeof out.address !== 'string' || out.address.length === 0) return undefined;
  return { address: out.address, port: typeof out.port === 'number' ? out.port : undefined };
}

/** Node's public getters: a socket without a handle of its own (a test's stand-in, a proxy's), or not connected. */
function askSocket(socket: PeerSocket): Peer | undefined {
  const address = socket.remoteAddress;
  if (typeof address !== 'string' || address.length === 0) return undefined;
  const port = socket.remotePort;
  return { address, port: typeof port === 'number' ? port : undefined };
}

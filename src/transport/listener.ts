/**
 * A bound (not connected) UDP socket that receives from anyone and answers to a given peer: the receiving side of
 * RTP, used by the KOOK emulator's media endpoints. Kept in `transport/` so that `node:dgram` stays in this folder.
 */
import { createSocket, type Socket } from 'node:dgram';

/** A datagram's source (or an answer's destination). */
export interface UdpPeer {
  readonly address: string;
  readonly port: number;
}

/** A bound UDP socket. */
export interface UdpListener {
  /** The local port. */
  readonly port: number;
  /** Sends one datagram to `peer`; `done` is called with the error, if any. Never throws. */
  sendTo(bytes: Uint8Array, peer: UdpPeer, done?: (error: Error | null) => void): void;
  /** Closes the socket; idempotent. */
  close(): void;
}

/**
 * Binds a UDP socket on `host`, on `port` (0 = ephemeral).
 * @param type - `udp4` or `udp6`
 * @param host - the local address to bind
 * @param onMessage - every datagram received, with its source
 * @param port - the local port, default 0
 * @remarks After binding, socket errors (an ICMP error on a send, say) are swallowed: a receiver must not crash
 *   because a peer went away.
 * @throws the bind error (as a rejection), e.g. EADDRINUSE
 */
export function bindUdpListener(
  type: 'udp4' | 'udp6',
  host: string,
  onMessage: (msg: Buffer, from: UdpPeer) => void,
  port = 0,
): Promise<UdpListener> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createSocket(type);
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.on('message', (msg, r) => onMessage(msg, { address: r.address, port: r.port }));
    socket.bind(port, host, () => {
      socket.off('error', onError);
      socket.on('error', () => undefined);
      let closed = false;
      resolve({
        port: socket.address().port,
        sendTo(bytes, peer, done) {
          if (closed) {
            done?.(new Error('socket closed'));
            return;
          }
          try {
            socket.send(bytes, peer.port, peer.address, (err) => done?.(err ?? null));
          } catch (err) {
            done?.(err as Error);
          }
        },
        close() {
          if (closed) return;
          closed = true;
          try {
            socket.close();
          } catch {
            // already closed
          }
        },
      });
    });
  });
}

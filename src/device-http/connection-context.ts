import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { newConnectionId } from '../core/connection-id.js';
import type { ConnectionContext } from '../core/device-auth.js';
import { normalizeIp } from '../core/provisioning-rules.js';

interface SocketInfo {
  context: ConnectionContext;
  /** The TLS client certificate; null once looked for and not found. */
  certificate?: X509Certificate | null;
}

/**
 * One ConnectionContext per TCP (or TLS) connection, made on its first request: every request of
 * a keep-alive connection carries the same connection_id, as the messages of an MQTT connection do.
 */
export class ConnectionContexts {
  // Weak: a context lives exactly as long as its socket.
  private readonly sockets = new WeakMap<Socket, SocketInfo>();

  constructor(private readonly protocol: 'http' | 'https') {}

  private info(socket: Socket): SocketInfo {
    let info = this.sockets.get(socket);
    if (!info) {
      info = {
        context: {
          ip: normalizeIp(socket.remoteAddress),
          protocol: this.protocol,
          connectionId: newConnectionId(),
        },
      };
      this.sockets.set(socket, info);
    }
    return info;
  }

  of(socket: Socket): ConnectionContext {
    return this.info(socket).context;
  }

  /** The client certificate the device presented in the TLS handshake, if any. */
  certificate(socket: Socket): X509Certificate | undefined {
    const info = this.info(socket);
    if (info.certificate === undefined) {
      const tls = socket as Partial<TLSSocket>;
      info.certificate = tls.getPeerX509Certificate?.() ?? null;
    }
    return info.certificate ?? undefined;
  }
}

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Aedes } from 'aedes';

export interface MqttListener {
  name: 'mqtt' | 'mqtts';
  server: Server;
  port: number;
}

export interface MqttListenerOptions {
  bind: string;
  mqttPort: number;
  mqttsPort: number;
  tls?: { certFile: string; keyFile: string };
}

/**
 * MQTT over TCP, and over TLS when a certificate is configured. The TLS listener asks for a client
 * certificate but lets the handshake finish without one: whether a certificate is required, and
 * which CAs it must chain to (pki.client_ca), is the settings' call, made when the device connects.
 */
export function createMqttListeners(broker: Aedes, options: MqttListenerOptions): MqttListener[] {
  const listeners: MqttListener[] = [
    { name: 'mqtt', server: createServer((socket) => broker.handle(socket)), port: options.mqttPort },
  ];
  if (options.tls) {
    const server = createTlsServer(
      {
        cert: readFileSync(options.tls.certFile),
        key: readFileSync(options.tls.keyFile),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (socket) => broker.handle(socket),
    );
    // A failed handshake is the client's problem; it must not reach the process as an error.
    server.on('tlsClientError', () => {});
    listeners.push({ name: 'mqtts', server, port: options.mqttsPort });
  }
  return listeners;
}

export function listen(listener: MqttListener, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    listener.server.once('error', reject);
    listener.server.listen(listener.port, host, () => {
      listener.server.off('error', reject);
      const address = listener.server.address();
      resolve(typeof address === 'object' && address ? address.port : listener.port);
    });
  });
}

/**
 * Stops accepting, lets publishes already queued for commit be acknowledged, then closes every
 * device connection.
 */
export async function closeMqtt(broker: Aedes, listeners: MqttListener[]): Promise<void> {
  for (const { server } of listeners) server.close();
  // Two turns of the loop: one for the group commit to run, one for its PUBACKs to be written.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => broker.close(() => resolve()));
}

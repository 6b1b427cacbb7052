import type { Aedes, Client, PublishPacket } from 'aedes';

type Done = (error?: Error) => void;
type Route = (packet: PublishPacket, client: Client | Done | null | undefined, done?: Done) => void;

/**
 * What a device publishes is consumed by the gateway (authorizePublish) and never relayed:
 * authorizeForward would drop it for every subscriber. After the PUBACK, aedes would still match
 * its topic against every subscription, look for offline sessions to queue it for and emit it —
 * about a tenth of the broker's work per message under ingest. This skips that routing for
 * publishes of device connections; the gateway's own publishes (set values, signal deliveries,
 * provisioning replies) go through aedes as before.
 *
 * The same goes for the notices aedes publishes for every client that connects or disconnects
 * ($SYS/<broker>/new/clients, /disconnect/clients): only other brokers sharing this one's emitter
 * act on them, to close a client id taken over elsewhere, and this broker's emitter is its own.
 * Devices cannot subscribe to $SYS. Routing them was about 2 % of a connect's cost.
 */
export function skipRoutingNobodyReceives(broker: Aedes, isDevice: (client: Client) => boolean): void {
  const route = broker.publish.bind(broker) as unknown as Route;
  const clientNotices = new Set([`$SYS/${broker.id}/new/clients`, `$SYS/${broker.id}/disconnect/clients`]);
  const publish: Route = (packet, client, done) => {
    // aedes' own publishes pass their callback as the second argument.
    if (typeof client === 'function') return publish(packet, null, client);
    if (client ? isDevice(client) : clientNotices.has(packet.topic)) {
      done?.();
      return;
    }
    route(packet, client, done);
  };
  (broker as unknown as { publish: Route }).publish = publish;
}

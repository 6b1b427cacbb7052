import type { Client } from 'aedes';
import type { AuthenticatedDevice, ConnectionContext } from '../core/device-auth.js';
import type { DeviceLink, SetValue } from '../core/device-connections.js';
import type { SignalSessions } from './signal-sessions.js';

const ignore = () => {};

/**
 * aedes keys a session (its subscriptions, its queued messages, and the takeover of a connection
 * with the same id) on the client id alone, which the client chooses. Scoped by the authenticated
 * identity (length-prefixed, so unambiguous even for an identity made before `/` was refused
 * everywhere), a client id names a session among that identity's
 * connections only: no other client can take over a device's connection or resume its session. A
 * connection without credentials (it may only provision) gets an id of its own.
 */
export function sessionClientId(
  identity: string | undefined,
  clientId: string,
  connectionId: string,
): string {
  return identity === undefined ? `/${connectionId}` : `${identity.length}:${identity}/${clientId}`;
}

const payloadOf = (value: SetValue['value']) => Buffer.from(String(value), 'utf8');

/**
 * One MQTT connection: who it is, and, once aedes has sent the CONNACK, its link to the core (set
 * values go out as PUBLISH $resource/<alias>/<µs>). A class with every field set at construction:
 * one lives as long as its connection, so its shape and size count, times thousands of devices.
 */
export class Session implements DeviceLink {
  /** Its refusal was counted already; the error aedes reports when closing it is not another one. */
  refused = false;
  provisionUsed = false;
  /** Between clientReady and clientDisconnect: the core counts this connection. */
  linked = false;
  /** Its disconnect is raised (or under way): it is not to become ready after that. */
  over = false;
  /** Closed by the gateway (lock, removal, new credentials): its Will is not published. */
  closedByGateway = false;
  /** Publishes of this connection being stored. */
  publishing = 0;
  private whenIdle: (() => void) | undefined = undefined;
  /** Who waits for this connection's disconnect to be raised (a new connection taking it over); null once it is. */
  private whenEnded: (() => void)[] | undefined | null = undefined;

  constructor(
    readonly client: Client,
    readonly ctx: ConnectionContext,
    /** undefined: connected without credentials, to provision and nothing else. */
    readonly device: AuthenticatedDevice | undefined,
    private readonly signalSessions: SignalSessions | undefined,
  ) {}

  deliver(values: SetValue[]): void {
    for (const { alias, value, timestamp } of values) {
      const topic = `$resource/${alias}/${timestamp}`;
      const payload = payloadOf(value);
      this.signalSessions?.sent(this.client, topic, payload);
      // aedes calls `ignore` once the packet is written (errors go to the client's error event).
      this.client.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, ignore);
    }
  }

  /** A publish of this connection was stored or refused (its events, if any, are out). */
  published(): void {
    if (this.publishing > 0) this.publishing--;
    if (this.publishing > 0 || !this.whenIdle) return;
    const then = this.whenIdle;
    this.whenIdle = undefined;
    then();
  }

  /** Runs `then` once no publish of this connection is being stored. */
  afterPublishes(then: () => void): void {
    if (this.publishing === 0) then();
    else this.whenIdle = then;
  }

  /** Runs `then` once this connection's disconnect is raised (`ended`), or now if it is. */
  onEnded(then: () => void): void {
    if (this.whenEnded === null) return then();
    (this.whenEnded ??= []).push(then);
  }

  /** Its disconnect is raised. */
  ended(): void {
    const waiting = this.whenEnded;
    this.whenEnded = null;
    if (waiting) for (const then of waiting) then();
  }

  close(): void {
    this.closedByGateway = true;
    this.client.close();
  }
}

import type { ResourceValue } from './schemas/common.js';
import type { AuthType, IdentityPermission } from './schemas/identity.js';
import type { StateWrite } from './ports.js';
import type { GatewayEvent } from './events.js';

/** What authenticating a device needs to know about its identity, and nothing more. */
export interface DeviceCredentialRecord {
  identity: string;
  authType: AuthType;
  credential: string | null;
  authExpire: number | null;
  locked: boolean;
  permission: IdentityPermission;
}

/**
 * One time-series sample: a value of a signal of the writing identity (docs/time-series.md). For a
 * defined resource, signal and resource are both its alias; the signal parser writes channel
 * samples with the channel id as signal and 'data_in' as resource.
 */
export interface Sample {
  signal: string;
  /** The resource that carried the value; a new signal is recorded as carried by it. */
  resource: string;
  /** Months the carrying resource keeps its data (its `retention`): the partition class. */
  retention: number;
  /** µs since the epoch: the device's time for batches and records, the server's otherwise. */
  timestamp: number;
  /** In the resource's format (channel values as the device sent them). */
  value: ResourceValue;
}

/** A signal declared before any sample (a config_io channel), with its metadata. */
export interface SignalDeclaration {
  signal: string;
  resource: string;
  /** JSON text (the channel's config_io entry), or null. */
  metadata: string | null;
}

/** Everything one device publish changes, written in one step. */
export interface DeviceWrite {
  identity: string;
  samples: Sample[];
  /**
   * Signals to create if the identity does not have them yet; an existing one keeps its resource
   * and values and takes the new metadata (signals are never deleted). Written in the same commit
   * as the samples, before them.
   */
  signals?: SignalDeclaration[];
  /** Reported (and set) values; an adapter applies each only if it is not older than the stored one. */
  state: StateWrite[];
  /** `at` is the server time of the write; contact (lastseen, lastip) is recorded unless `contact` is false. */
  seen: { at: number; ip: string | null; contact?: false };
}

export interface DeviceIdentityStore {
  byIdentity(identity: string): Promise<DeviceCredentialRecord | undefined>;
  /** The identity whose token credential has this hash. */
  byTokenHash(hash: string): Promise<DeviceCredentialRecord | undefined>;
  /**
   * Gives an identity new credentials if its credential is still `expected` (compare-and-set, so two
   * devices racing to provision one identity cannot both win) and closes its provisioning window.
   * false when the identity is gone or its credential changed meanwhile. Throws ALREADY_EXISTS when
   * a token is taken. `raised` (the `provisioned` event) is stored in the same transaction, when it
   * provisions (IdentityStore.unforgottenEvents).
   */
  provision(
    identity: string,
    expected: string | null,
    next: { authType: AuthType; credential: string },
    raised?: GatewayEvent,
  ): Promise<boolean>;
}

/**
 * What a write did: false, with nothing written, when the identity no longer exists; true when
 * written; `kept` names the resources of `state` whose stored state it left as it was, because
 * that state is newer (a recorded value older than the current one).
 */
export type WriteResult = boolean | { kept: string[] };

/** What a write did, or the error that kept its commit from being durable. */
export type WriteOutcome = WriteResult | Error;

export interface IngestStore {
  /**
   * Calls `done` once the write is durable (writes arriving together share one commit) or has
   * failed. A callback, not a promise: MQTT ingest makes over 100,000 writes a second, and a
   * promise per write, with its resolvers and reactions held until the commit, cost ~200 ns of
   * the gateway thread per message (`writeDurably` makes it a promise where that does not matter).
   * A write the store cannot take at all (malformed) throws, and `done` is not called.
   */
  write(write: DeviceWrite, done: (outcome: WriteOutcome) => void): void;
}

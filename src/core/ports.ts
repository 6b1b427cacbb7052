import type { DeviceIdentityStore, IngestStore } from './device-ports.js';
import type { IdentityState, ResourceValue, Tag } from './schemas/common.js';
import type { AuthType, IdentityPermission } from './schemas/identity.js';
import type { DeviceMetricsStore } from './device-metrics-ports.js';
import type { TimeSeriesStore } from './time-series-ports.js';
import type { ArchiveSource } from './archive-ports.js';
import type { RestoreStore } from './restore-ports.js';
import type { ResourceDefinition } from './schemas/resource.js';
import type { GatewaySettings } from './schemas/settings.js';
import type { WebhookStore } from './webhook-ports.js';
import type { HandlerQueueStore } from './handler-queue-ports.js';
import type { GatewayEvent } from './events.js';

/**
 * Storage ports. Every method is atomic on its own: an adapter runs it in one transaction, so a
 * use case never holds a transaction open across awaits. All timestamps are µs since the epoch.
 */

export type LifecycleStatus = 'locked' | 'reprovision' | 'provisioned' | 'whitelisted' | 'expired';

export interface IdentityRecord {
  identity: string;
  authType: AuthType;
  /** Hash of a token or password, or the PEM of a certificate; null until provisioned. */
  credential: string | null;
  authExpire: number | null;
  locked: boolean;
  online: boolean;
  lastseen: number | null;
  lastip: string | null;
  permission: IdentityPermission;
  tags: Tag[];
  state: IdentityState;
}

export type NewIdentity = Omit<IdentityRecord, 'online' | 'lastseen' | 'lastip' | 'tags' | 'state'> & {
  /** µs; also the timestamp of the initial state entries. */
  createdAt: number;
};

export type TagOperator = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'ne';

/** A parsed, validated identity filter. Absent fields do not filter. */
export interface IdentityQuery {
  /** Lifecycle statuses, ORed. */
  statuses?: LifecycleStatus[];
  /** true: only connected identities; false: only disconnected ones. */
  online?: boolean;
  /** RE2 pattern matched against the identity (adapters must run it in linear time). */
  identityPattern?: string;
  ipaddress?: string;
  before?: number;
  after?: number;
  tagName?: string;
  tagValue?: string;
  tagCriteria?: { name: string; operator: TagOperator; value: string }[];
  /** The time statuses are derived at. */
  now: number;
}

/** One sort key: a column of the identity, or the reported value of a resource. */
export type OrderKey =
  | { field: 'identity' | 'lastseen' | 'lastip'; descending: boolean }
  | { field: 'state'; resource: string; descending: boolean };

export interface StateWrite {
  resource: string;
  /** undefined leaves the current value. */
  set?: ResourceValue;
  reported?: ResourceValue;
  timestamp: number;
}

export interface BulkIdentityChange {
  addTags: Tag[];
  /** A tag without value removes every value of that name. */
  removeTags: { name: string; value?: string }[];
  state: StateWrite[];
}

export interface IdentityUpdate {
  authType?: AuthType;
  /** null clears the credential (the identity goes back to whitelisted). */
  credential?: string | null;
  authExpire?: number | null;
  locked?: boolean;
}

export interface IdentityStore {
  /**
   * Throws ALREADY_EXISTS when the identity, or a token credential, is taken. The identity gets,
   * as its set value, the `initial` of every resource defined with one when the write happens, so
   * that a resource added or removed meanwhile is seen consistently. `raised` is the event the
   * insert raises, stored in its transaction (`unforgottenEvents`).
   */
  insert(identity: NewIdentity, raised?: GatewayEvent): Promise<void>;
  get(identity: string): Promise<IdentityRecord | undefined>;
  /** Which of `identities` exist. */
  existing(identities: string[]): Promise<Set<string>>;
  list(query: IdentityQuery, order: OrderKey[], limit: number, offset: number): Promise<IdentityRecord[]>;
  count(query: IdentityQuery): Promise<number>;
  /** false when the identity does not exist. Throws ALREADY_EXISTS when a token is taken. */
  update(identity: string, update: IdentityUpdate): Promise<boolean>;
  /**
   * Removes all or none: returns the identities that do not exist, and then removes nothing.
   * `raised` (the `deleted` events) are stored in the removal's transaction, when it removes.
   */
  remove(identities: string[], raised?: GatewayEvent[]): Promise<string[]>;
  /** Applies one change to every identity matching the query; returns how many matched. */
  updateMatching(query: IdentityQuery, change: BulkIdentityChange): Promise<number>;

  addTags(identity: string, tags: Tag[], replace: boolean): Promise<boolean>;
  /** Values of one tag name; undefined when the identity does not exist. */
  tagValues(identity: string, name: string): Promise<string[] | undefined>;
  tagNames(): Promise<string[]>;
  /** Removes the named tag, or only the given values of it; false when the identity does not exist. */
  removeTag(identity: string, name: string, values?: string[]): Promise<boolean>;

  /** Replaces the permission entities given and keeps the others; false when the identity does not exist. */
  updatePermission(identity: string, permission: IdentityPermission): Promise<boolean>;
  /**
   * Records contact with the device (nothing when the identity does not exist). Reads see it at
   * once; it may be stored a moment later, since a crash that loses it loses nothing acknowledged.
   */
  markSeen(identity: string, seen: { at: number; ip?: string; online?: boolean }): Promise<void>;
  /**
   * The identities a previous run left online, ending without closing their connections (a
   * crash): offline since the store opened, and listed here until forgotten.
   */
  leftOnline(): Promise<{ identity: string; ip: string | null }[]>;
  /** Their disconnects are raised: they are no longer listed by `leftOnline`. */
  forgetLeftOnline(identities: string[]): Promise<void>;
  /**
   * Events stored with the change that raised them (insert, remove, a device's provisioning) and
   * not forgotten yet, oldest first: at start, those a run that died had not handed over.
   */
  unforgottenEvents(): Promise<GatewayEvent[]>;
  /**
   * Every event consumer has stored these (objects passed to a change, or got from
   * `unforgottenEvents`): they are no longer listed.
   */
  forgetEvents(events: GatewayEvent[]): Promise<void>;
  /** false when the identity does not exist. */
  writeState(identity: string, writes: StateWrite[]): Promise<boolean>;
}

export interface ResourceRevision {
  definition: ResourceDefinition;
  initial?: StateWrite;
}

export interface ResourceStore {
  /**
   * Throws ALREADY_EXISTS when the alias is defined. With `initial`, every identity gets a state
   * entry whose set value is the initial one.
   */
  add(alias: string, definition: ResourceDefinition, initial?: StateWrite): Promise<void>;
  get(alias: string): Promise<ResourceDefinition | undefined>;
  list(): Promise<Record<string, ResourceDefinition>>;
  /**
   * Revises a definition in one atomic step: `revise` gets the stored definition and returns the
   * new one, with, optionally, a state write for the identities that have no entry for the alias
   * yet. `revise` may throw to leave everything as it was. false when the alias is not defined.
   */
  update(alias: string, revise: (current: ResourceDefinition) => ResourceRevision): Promise<boolean>;
  /** Removes the definition and every identity's state entry for it; false when not defined. */
  remove(alias: string): Promise<boolean>;
}

export interface SettingsStore {
  /** undefined until settings were first written. */
  get(): Promise<GatewaySettings | undefined>;
  /**
   * Revises the settings in one atomic step: `revise` gets the stored document (undefined before
   * the first write) and returns the new one, or throws to leave it as it was.
   */
  update(revise: (current: GatewaySettings | undefined) => GatewaySettings): Promise<GatewaySettings>;
}

export interface Store {
  identities: IdentityStore;
  resources: ResourceStore;
  settings: SettingsStore;
  devices: DeviceIdentityStore;
  ingest: IngestStore;
  deviceMetrics: DeviceMetricsStore;
  /** Reads of the time series (written through `ingest`) and retention drops. */
  series: TimeSeriesStore;
  /** Webhooks and their delivery outbox (core/webhook-ports.ts). */
  webhooks: WebhookStore;
  /** The event handler module's queue (core/handler-queue-ports.ts). */
  handlerQueue: HandlerQueueStore;
  /** Samples by day for the archive, and partitions set aside for it (core/archive-ports.ts). */
  archive: ArchiveSource;
  /** Restore tasks and restored data (core/restore-ports.ts). */
  restores: RestoreStore;
  /** Flushes and releases everything; no method may be called afterwards. */
  close(): Promise<void>;
}

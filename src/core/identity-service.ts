import { X509Certificate } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { Clock } from './clock.js';
import { toMicros } from './clock.js';
import { storedCredential } from './credentials.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { GatewayEvent } from './events.js';
import { alreadyExists, GatewayError, identityNotFound, invalidParameter } from './errors.js';
import {
  generateIdentity,
  identityFormatViolation,
  identitySpaceSize,
  nthIdentity,
} from './identity-format.js';
import { findIdentity } from './find-identity.js';
import { parseIdentityQuery, parseOrder } from './identity-query.js';
import type { IdentityRecord, IdentityStore, IdentityUpdate } from './ports.js';
import type {
  AddIdentityParams,
  AuthInput,
  AuthType,
  IdentityView,
  MakeIdentityParams,
} from './schemas/identity.js';
import type { IdentityFilterParams, ListIdentitiesParams } from './schemas/identity-query.js';
import type { SettingsService } from './settings-service.js';
import { deriveStatus } from './identity-status.js';

const RANDOM_ATTEMPTS = 32;
/** Spaces up to this size are searched exhaustively before makeIdentity gives up. */
const WALKABLE_SPACE = 1_000_000;

/**
 * A device authenticates with a certificate whose CN is its identity (reference, auth_type
 * "certificate"), so a certificate naming anyone else could never connect.
 */
function credentialFor(identity: string, type: AuthType, key: string): string {
  const credential = storedCredential(type, key);
  if (type === 'certificate') {
    const names = new X509Certificate(credential).subject
      .split('\n')
      .filter((part) => part.startsWith('CN='))
      .map((part) => part.slice('CN='.length));
    if (!names.includes(identity)) {
      throw invalidParameter('auth.key', `the certificate's CN must be the identity "${identity}"`);
    }
  }
  return credential;
}

/** auth.expire in µs (given in s, ms or µs), refused past the range a JSON number keeps exactly. */
function expireMicros(expire: number): number {
  const micros = toMicros(expire);
  if (!Number.isSafeInteger(micros)) throw invalidParameter('auth.expire', 'is too far in the future');
  return micros;
}

export function toView(record: IdentityRecord, now: number): IdentityView {
  return {
    identity: record.identity,
    auth: {
      key: record.authType === 'certificate' ? record.credential : null,
      type: record.authType,
      ...(record.authExpire !== null && { expire: record.authExpire }),
    },
    status: deriveStatus(record, now),
    locked: record.locked,
    online: record.online,
    lastip: record.lastip,
    lastseen: record.lastseen,
    tags: record.tags,
    state: record.state,
  };
}

/** Identity registry use cases: whitelisting, generation, lookup, listing and removal. */
export class IdentityService {
  constructor(
    private readonly identities: IdentityStore,
    private readonly settings: SettingsService,
    private readonly clock: Clock,
    private readonly metrics: DeviceMetricsRecorder,
  ) {}

  async add(params: Static<typeof AddIdentityParams>): Promise<void> {
    const { identity_format: format } = await this.settings.get();
    const violation = identityFormatViolation(params.identity, format);
    if (violation) throw invalidParameter('identity', violation);
    try {
      await this.insert(params.identity, params);
    } catch (error) {
      // The store cannot know the name the caller gave; the caller wants to hear it back.
      if (error instanceof GatewayError && error.code === 'ALREADY_EXISTS' && error.parameter === 'identity')
        throw alreadyExists('identity', `identity "${params.identity}" already exists`);
      throw error;
    }
  }

  async make(params: Static<typeof MakeIdentityParams>): Promise<IdentityView> {
    const { identity_format: format, provisioning } = await this.settings.get();
    if ((params.auth?.type ?? provisioning.auth_type) === 'certificate') {
      throw invalidParameter(
        'auth.type',
        'certificate identities must be named by their certificate; use addIdentity',
      );
    }
    for (let attempt = 0; attempt < RANDOM_ATTEMPTS; attempt++) {
      const identity = generateIdentity(format);
      if (await this.tryInsert(identity, params)) return this.get(identity);
    }
    const size = identitySpaceSize(format);
    if (size <= WALKABLE_SPACE) {
      const start = Math.floor(Math.random() * size);
      for (let offset = 0; offset < size; offset += 1000) {
        const batch = Array.from({ length: Math.min(1000, size - offset) }, (_, i) =>
          nthIdentity(format, (start + offset + i) % size),
        );
        const taken = await this.identities.existing(batch);
        for (const identity of batch) {
          if (!taken.has(identity) && (await this.tryInsert(identity, params))) return this.get(identity);
        }
      }
    }
    throw new GatewayError('IDENTITY_SPACE_EXHAUSTED', 'no free identity is left in the identity format');
  }

  private async tryInsert(identity: string, params: Static<typeof MakeIdentityParams>): Promise<boolean> {
    try {
      await this.insert(identity, params);
      return true;
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'ALREADY_EXISTS' && error.parameter === 'identity')
        return false;
      throw error;
    }
  }

  private async insert(identity: string, params: Static<typeof MakeIdentityParams>): Promise<void> {
    const { provisioning } = await this.settings.get();
    const authType = params.auth?.type ?? provisioning.auth_type;
    const key = params.auth?.key;
    await this.identities.insert({
      identity,
      authType,
      credential: key ? credentialFor(identity, authType, key) : null,
      authExpire: params.auth?.expire === undefined ? null : expireMicros(params.auth.expire),
      locked: params.locked ?? false,
      permission: {},
      createdAt: this.clock.nowMicros(),
    });
    this.metrics.record('whitelisted', identity);
    if (params.locked) this.metrics.record('locked', identity);
  }

  async get(identity: string): Promise<IdentityView> {
    return toView(await findIdentity(this.identities, identity), this.clock.nowMicros());
  }

  async list(
    params: Static<typeof ListIdentitiesParams>,
  ): Promise<{ devices: IdentityView[]; mayLoadMore: boolean }> {
    const now = this.clock.nowMicros();
    const query = parseIdentityQuery(params, now);
    const limit = params.limit ?? 50;
    const records = await this.identities.list(
      query,
      parseOrder(params.order),
      limit + 1,
      params.offset ?? 0,
    );
    return {
      devices: records.slice(0, limit).map((r) => toView(r, now)),
      mayLoadMore: records.length > limit,
    };
  }

  async count(params: Static<typeof IdentityFilterParams>): Promise<{ count: number }> {
    return { count: await this.identities.count(parseIdentityQuery(params, this.clock.nowMicros())) };
  }

  async update(params: Static<typeof AddIdentityParams>): Promise<void> {
    const update: IdentityUpdate = { ...(params.locked !== undefined && { locked: params.locked }) };
    if (params.auth) Object.assign(update, await this.authUpdate(params.identity, params.auth));
    // Only locking an unlocked identity counts as `locked`; restating it does not.
    const wasLocked = params.locked === true && (await this.identities.get(params.identity))?.locked;
    if (!(await this.identities.update(params.identity, update))) throw identityNotFound(params.identity);
    if (params.locked === true && !wasLocked) this.metrics.record('locked', params.identity);
  }

  /**
   * A new key replaces the credential; a change of type without a key clears it, so the device
   * provisions again. Restating the current type (say, beside a new expiry) changes nothing.
   */
  private async authUpdate(identity: string, auth: AuthInput): Promise<IdentityUpdate> {
    const update: IdentityUpdate = {};
    if (auth.expire !== undefined) update.authExpire = expireMicros(auth.expire);
    if (auth.key === null) update.credential = null;
    if (auth.type !== undefined || typeof auth.key === 'string') {
      const current = (await findIdentity(this.identities, identity)).authType;
      const type = auth.type ?? current;
      update.authType = type;
      if (typeof auth.key === 'string') update.credential = credentialFor(identity, type, auth.key);
      else if (type !== current) update.credential = null;
    }
    return update;
  }

  /** `deleted` is stored with the removal, for raiseStoredEvents. */
  async remove(identity: string, deleted: GatewayEvent): Promise<void> {
    const missing = await this.identities.remove([identity], [deleted]);
    if (missing.length > 0) throw identityNotFound(identity);
    this.metrics.record('deleted', identity);
  }

  /** Resolves with the `deleted` event of each, stored with the removal, for raiseStoredEvents. */
  async removeMany(list: string, deletedEvent: (identity: string) => GatewayEvent): Promise<GatewayEvent[]> {
    const identities = [...new Set(list.split(',').map((s) => s.trim()))];
    if (identities.some((identity) => identity === ''))
      throw invalidParameter('identities', 'contains an empty identity');
    if (identities.length > 10_000) throw invalidParameter('identities', 'at most 10000 identities at once');
    const deleted = identities.map(deletedEvent);
    const missing = await this.identities.remove(identities, deleted);
    if (missing.length > 0) {
      throw new GatewayError(
        'NOT_FOUND',
        `identities do not exist: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
      );
    }
    for (const identity of identities) this.metrics.record('deleted', identity);
    return deleted;
  }
}

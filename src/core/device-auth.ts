import { timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Clock } from './clock.js';
import { generateToken, hashSecret, MIN_PASSWORD_BYTES } from './credentials.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { CredentialCache } from './credential-cache.js';
import type { DeviceCredentialRecord } from './device-ports.js';
import { forbidden, GatewayError, invalidParameter } from './errors.js';
import type { EventPublisher, GatewayEvent } from './events.js';
import { raiseStoredEvents } from './raised-events.js';
import { deriveStatus } from './identity-status.js';
import { generateIdentity, identityFormatViolation } from './identity-format.js';
import type { IdentityStore } from './ports.js';
import { ipMayProvision } from './provisioning-rules.js';
import type { AuthType, IdentityPermission } from './schemas/identity.js';
import type { GatewaySettings } from './schemas/settings.js';
import type { SettingsService } from './settings-service.js';

export type DeviceProtocol = 'mqtt' | 'mqtts' | 'http' | 'https';

/** Where a device is talking from; one per network connection. */
export interface ConnectionContext {
  ip: string | null;
  protocol: DeviceProtocol;
  connectionId: string;
  /**
   * For a connection that stays open: `DeviceConnections.mark()` taken before authenticating it.
   * A lock, removal or credential change in between closes it as soon as it is linked.
   */
  closeMark?: number;
}

export type DeviceCredentials =
  | { type: 'token'; token: string }
  /**
   * MQTT's username and password, which carry either a token (any username) or an identity and
   * its password: the identity's auth type (or, for a new one, provisioning.auth_type) decides.
   */
  | { type: 'secret'; username: string; secret: string }
  | { type: 'password'; identity: string; password: string }
  /** A TLS client certificate; `caVerified` when it chains to pki.client_ca. */
  | { type: 'certificate'; identity: string; certificate: string; caVerified: boolean };

export interface AuthenticatedDevice {
  identity: string;
  permission: IdentityPermission;
}

const unauthorized = () => new GatewayError('UNAUTHORIZED', 'missing or invalid credentials');

function sameSecret(stored: string, presented: string): boolean {
  const a = Buffer.from(stored);
  const b = Buffer.from(hashSecret(presented));
  return a.length === b.length && timingSafeEqual(a, b);
}

function normalizePem(pem: string): string | undefined {
  try {
    return new X509Certificate(pem).toString().trim();
  } catch {
    return undefined;
  }
}

/**
 * Device authentication and provisioning as the gateway settings direct (reference: settings
 * `provisioning`, `pki`; CONTRACT §3). Every refusal is counted with its reason.
 */
export class DeviceAuth {
  constructor(
    private readonly devices: CredentialCache,
    private readonly identities: IdentityStore,
    private readonly settings: SettingsService,
    private readonly events: EventPublisher,
    private readonly activity: DeviceMetricsRecorder,
    private readonly clock: Clock,
  ) {}

  /** Who a device is, from what it presented on connecting (or on each HTTP request). */
  authenticate(credentials: DeviceCredentials, ctx: ConnectionContext): Promise<AuthenticatedDevice> {
    return this.check(credentials, ctx).catch((error: unknown) => {
      const identity =
        credentials.type === 'token'
          ? null
          : credentials.type === 'secret'
            ? credentials.username || null
            : credentials.identity;
      const reason = error instanceof GatewayError ? (error.reason ?? 'bad_credentials') : 'internal_error';
      this.activity.record('connection_error', identity, 1, reason);
      throw error;
    });
  }

  private async check(given: DeviceCredentials, ctx: ConnectionContext): Promise<AuthenticatedDevice> {
    const credentials = given.type === 'secret' ? await this.resolveSecret(given) : given;
    if (credentials.type === 'token') {
      // HTTP devices present their token on every request; an MQTT connection once.
      const everyRequest = ctx.protocol === 'http' || ctx.protocol === 'https';
      const record = await this.devices.byTokenHash(hashSecret(credentials.token), everyRequest);
      if (!record) throw unauthorized();
      return this.admit(record);
    }
    const settings = await this.settings.get();
    const record = await this.devices.byIdentity(credentials.identity);
    const presented = this.presentedCredential(credentials);
    if (!record) {
      if (!this.mayPresent(settings, credentials)) throw unauthorized();
      return this.provisionNew(credentials.identity, credentials.type, presented, settings, ctx);
    }
    if (record.authType !== credentials.type) throw unauthorized();
    const matches =
      record.credential !== null &&
      (credentials.type === 'password'
        ? sameSecret(record.credential, credentials.password)
        : record.credential === presented || (settings.pki?.enabled === true && credentials.caVerified));
    if (matches) return this.admit(record);
    // A device without valid credentials yet presents its own: that is how password and
    // certificate identities provision (reference: provisioning.auth_type).
    if (record.credential !== null && deriveStatus(record, this.clock.nowMicros()) !== 'reprovision')
      throw unauthorized();
    if (credentials.type === 'certificate' && settings.pki?.enabled && !credentials.caVerified)
      throw unauthorized();
    await this.provisionExisting(record, credentials.type, presented, settings, ctx);
    return { identity: record.identity, permission: record.permission };
  }

  private async resolveSecret(
    credentials: Extract<DeviceCredentials, { type: 'secret' }>,
  ): Promise<Exclude<DeviceCredentials, { type: 'secret' }>> {
    const { username, secret } = credentials;
    if (username !== '') {
      const record = await this.devices.byIdentity(username);
      const type = record ? record.authType : (await this.settings.get()).provisioning.auth_type;
      if (type === 'password') return { type: 'password', identity: username, password: secret };
    }
    return { type: 'token', token: secret };
  }

  private presentedCredential(credentials: Exclude<DeviceCredentials, { type: 'token' | 'secret' }>): string {
    if (credentials.type === 'password') {
      if (Buffer.byteLength(credentials.password, 'utf8') < MIN_PASSWORD_BYTES) throw unauthorized();
      return hashSecret(credentials.password);
    }
    const pem = normalizePem(credentials.certificate);
    if (pem === undefined) throw unauthorized();
    return pem;
  }

  private mayPresent(
    settings: GatewaySettings,
    credentials: Exclude<DeviceCredentials, { type: 'token' | 'secret' }>,
  ) {
    const { provisioning, pki } = settings;
    if (!provisioning.enabled || !provisioning.presenter_identity) return false;
    if (provisioning.auth_type !== credentials.type) return false;
    return credentials.type !== 'certificate' || !pki?.enabled || credentials.caVerified;
  }

  /** Lets in a device whose credentials matched, unless its identity forbids it. */
  private admit(record: DeviceCredentialRecord): AuthenticatedDevice {
    const status = deriveStatus(record, this.clock.nowMicros());
    if (status === 'locked') throw forbidden('locked', `identity "${record.identity}" is locked`);
    if (status === 'reprovision') {
      this.activity.record('reprovision', record.identity);
      throw forbidden('reprovision', `the key of identity "${record.identity}" has expired; provision again`);
    }
    return { identity: record.identity, permission: record.permission };
  }

  /**
   * Token provisioning (HTTP /provision/activate, MQTT $provision/<identity>): returns the new
   * token. An empty identity asks the gateway to generate one (provisioning.generate_identity).
   */
  async activate(identity: string, ctx: ConnectionContext): Promise<{ identity: string; token: string }> {
    try {
      return await this.issueToken(identity, ctx);
    } catch (error) {
      const reason =
        error instanceof GatewayError ? (error.reason ?? error.code.toLowerCase()) : 'internal_error';
      this.activity.record('connection_error', identity || null, 1, `provision_${reason}`);
      throw error;
    }
  }

  private async issueToken(
    identity: string,
    ctx: ConnectionContext,
  ): Promise<{ identity: string; token: string }> {
    const settings = await this.settings.get();
    this.checkProvisioningOpen(settings, ctx);
    const token = generateToken();
    const credential = hashSecret(token);
    // An identity the gateway does not know yet provisions with the scheme the settings expect;
    // one added beforehand (addIdentity) with its own.
    const tokenExpected = () => {
      const expected = settings.provisioning.auth_type;
      if (expected !== 'token')
        throw forbidden(
          'wrong_auth_type',
          `provisioning.auth_type is ${expected}: a new identity cannot take a token`,
        );
    };
    if (identity === '') {
      tokenExpected();
      if (!settings.provisioning.generate_identity)
        throw invalidParameter('id', 'no identity given and provisioning.generate_identity is off');
      for (let attempt = 0; attempt < 32; attempt++) {
        const generated = generateIdentity(settings.identity_format);
        const raised = await this.tryInsert(generated, 'token', credential, ctx);
        if (raised) {
          await this.provisioned(raised);
          return { identity: generated, token };
        }
      }
      throw new GatewayError('IDENTITY_SPACE_EXHAUSTED', 'no free identity is left in the identity format');
    }
    const record = await this.devices.byIdentity(identity);
    if (!record) {
      if (!settings.provisioning.presenter_identity)
        throw new GatewayError('NOT_FOUND', `identity "${identity}" is not whitelisted`, {
          reason: 'unknown_identity',
        });
      const violation = identityFormatViolation(identity, settings.identity_format);
      if (violation) throw invalidParameter('id', violation);
      tokenExpected();
      const raised = await this.tryInsert(identity, 'token', credential, ctx);
      if (raised) {
        await this.provisioned(raised);
        return { identity, token };
      }
      // Another device presented the same identity at the same moment and won.
      throw new GatewayError('ALREADY_EXISTS', `identity "${identity}" is already provisioned`, {
        reason: 'already_provisioned',
      });
    }
    if (record.authType !== 'token') {
      throw forbidden(
        'wrong_auth_type',
        `identity "${identity}" authenticates by ${record.authType}, not a token`,
      );
    }
    await this.provisionExisting(record, 'token', credential, settings, ctx);
    return { identity, token };
  }

  private checkProvisioningOpen(settings: GatewaySettings, ctx: ConnectionContext): void {
    if (!settings.provisioning.enabled) throw forbidden('provisioning_disabled', 'provisioning is disabled');
    if (!ipMayProvision(settings, ctx.ip))
      throw forbidden('ip_not_allowed', `address ${ctx.ip ?? 'unknown'} may not provision`);
  }

  private async provisionNew(
    identity: string,
    authType: AuthType,
    credential: string,
    settings: GatewaySettings,
    ctx: ConnectionContext,
  ): Promise<AuthenticatedDevice> {
    this.checkProvisioningOpen(settings, ctx);
    const violation = identityFormatViolation(identity, settings.identity_format);
    if (violation) throw unauthorized();
    const raised = await this.tryInsert(identity, authType, credential, ctx);
    if (!raised) throw unauthorized();
    await this.provisioned(raised);
    return { identity, permission: {} };
  }

  private async provisionExisting(
    record: DeviceCredentialRecord,
    authType: AuthType,
    credential: string,
    settings: GatewaySettings,
    ctx: ConnectionContext,
  ): Promise<void> {
    const status = deriveStatus(record, this.clock.nowMicros());
    if (status === 'locked') throw forbidden('locked', `identity "${record.identity}" is locked`);
    if (status === 'provisioned') {
      throw new GatewayError('ALREADY_EXISTS', `identity "${record.identity}" is already provisioned`, {
        reason: 'already_provisioned',
      });
    }
    if (status === 'expired') {
      this.activity.record('expired', record.identity);
      await this.publish('expired', record.identity, ctx);
      throw forbidden('expired', `the provisioning window of identity "${record.identity}" has closed`);
    }
    this.checkProvisioningOpen(settings, ctx);
    const raised = this.event('provisioned', record.identity, ctx);
    if (
      !(await this.devices.provision(record.identity, record.credential, { authType, credential }, raised))
    ) {
      throw new GatewayError('ALREADY_EXISTS', `identity "${record.identity}" was provisioned meanwhile`, {
        reason: 'already_provisioned',
      });
    }
    await this.provisioned(raised);
  }

  /** The new identity's `provisioned` event, stored with it; undefined when the identity is taken. */
  private async tryInsert(
    identity: string,
    authType: AuthType,
    credential: string,
    ctx: ConnectionContext,
  ): Promise<GatewayEvent | undefined> {
    const raised = this.event('provisioned', identity, ctx);
    try {
      await this.identities.insert(
        {
          identity,
          authType,
          credential,
          authExpire: null,
          locked: false,
          permission: {},
          createdAt: this.clock.nowMicros(),
        },
        raised,
      );
      return raised;
    } catch (error) {
      if (error instanceof GatewayError && error.code === 'ALREADY_EXISTS' && error.parameter === 'identity')
        return undefined;
      throw error;
    }
  }

  /** Answers only once the event is kept by the consumers that deliver at least once. */
  private async provisioned(raised: GatewayEvent): Promise<void> {
    this.activity.record('provisioned', raised.identity);
    await raiseStoredEvents(this.events, this.identities, [raised]);
  }

  /** Resolves once the event is stored for the consumers that deliver at least once. */
  private async publish(type: 'expired', identity: string, ctx: ConnectionContext): Promise<void> {
    this.events.publish(this.event(type, identity, ctx));
    await this.events.kept?.();
  }

  private event(type: 'provisioned' | 'expired', identity: string, ctx: ConnectionContext): GatewayEvent {
    return {
      type,
      identity,
      ip: ctx.ip,
      protocol: ctx.protocol,
      timestamp: this.clock.nowMicros(),
      connection_id: ctx.connectionId,
    };
  }
}

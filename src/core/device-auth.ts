import { timingSafeEqual, X509Certificate } from 'node:crypto';
import type { Clock } from './clock.js';
import { hashSecret, MIN_PASSWORD_BYTES } from './credentials.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { CredentialCache } from './credential-cache.js';
import type { DeviceCredentialRecord } from './device-ports.js';
import { forbidden, GatewayError, unauthorized } from './errors.js';
import { DeviceProvisioning } from './device-provisioning.js';
import type { EventPublisher } from './events.js';
import { deriveStatus } from './identity-status.js';
import type { IdentityStore } from './ports.js';
import type { IdentityPermission } from './schemas/identity.js';
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
 * Device authentication as the gateway settings direct (reference: settings `provisioning`, `pki`;
 * CONTRACT §3), provisioning included (device-provisioning.ts). Every refusal is counted with its
 * reason.
 */
export class DeviceAuth {
  private readonly provisioning: DeviceProvisioning;

  constructor(
    private readonly devices: CredentialCache,
    identities: IdentityStore,
    private readonly settings: SettingsService,
    events: EventPublisher,
    private readonly activity: DeviceMetricsRecorder,
    private readonly clock: Clock,
  ) {
    this.provisioning = new DeviceProvisioning(devices, identities, settings, events, activity, clock);
  }

  /**
   * Token provisioning (HTTP /provision/activate, MQTT $provision/<identity>): returns the new
   * token. An empty identity asks the gateway to generate one (provisioning.generate_identity).
   */
  activate(identity: string, ctx: ConnectionContext): Promise<{ identity: string; token: string }> {
    return this.provisioning.activate(identity, ctx);
  }

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
      return this.provisioning.provisionNew(credentials.identity, credentials.type, presented, settings, ctx);
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
    await this.provisioning.provisionExisting(record, credentials.type, presented, settings, ctx);
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
}

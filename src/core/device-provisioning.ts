import type { Clock } from './clock.js';
import type { CredentialCache } from './credential-cache.js';
import { generateToken, hashSecret } from './credentials.js';
import type { AuthenticatedDevice, ConnectionContext } from './device-auth.js';
import type { DeviceMetricsRecorder } from './device-metrics.js';
import type { DeviceCredentialRecord } from './device-ports.js';
import { forbidden, GatewayError, invalidParameter, unauthorized } from './errors.js';
import type { EventPublisher, GatewayEvent } from './events.js';
import { generateIdentity, identityFormatViolation } from './identity-format.js';
import { deriveStatus } from './identity-status.js';
import type { IdentityStore } from './ports.js';
import { ipMayProvision } from './provisioning-rules.js';
import { raiseStoredEvents } from './raised-events.js';
import type { AuthType } from './schemas/identity.js';
import type { GatewaySettings } from './schemas/settings.js';
import type { SettingsService } from './settings-service.js';

/**
 * Provisioning as the gateway settings direct (reference: settings `provisioning`; CONTRACT §3):
 * token activation, and the password or certificate a device presents for itself. A provisioned
 * identity's `provisioned` event is stored with it (raised-events.ts), and the device is answered
 * only once the event consumers have it.
 */
export class DeviceProvisioning {
  constructor(
    private readonly devices: CredentialCache,
    private readonly identities: IdentityStore,
    private readonly settings: SettingsService,
    private readonly events: EventPublisher,
    private readonly activity: DeviceMetricsRecorder,
    private readonly clock: Clock,
  ) {}

  /** Token provisioning (DeviceAuth.activate). */
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

  /** A device that presented a password or certificate for an identity the gateway does not know. */
  async provisionNew(
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

  /** A device that presented new credentials for an identity without valid ones. */
  async provisionExisting(
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
          createdAt: raised.timestamp,
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

import type { Static } from '@sinclair/typebox';
import type { Clock } from './clock.js';
import { GatewayError, identityNotFound, invalidParameter } from './errors.js';
import type { DeviceConnections } from './device-connections.js';
import type { EventPublisher } from './events.js';
import { findIdentity } from './find-identity.js';
import { parseIdentityQuery } from './identity-query.js';
import type { IdentityStore, ResourceStore, StateWrite } from './ports.js';
import { conformValue } from './resource-values.js';
import type { IdentityState, ResourceValue } from './schemas/common.js';
import type { UpdateIdentitiesParams } from './schemas/identity-query.js';
import { checkTagSizes } from './tag-service.js';

/**
 * Identity state: the cloud's "set" and the device's "reported" value per defined resource.
 * A sync resource holds a set value until the device reports it back; a non-sync one takes it
 * as reported at once.
 */
export class StateService {
  constructor(
    private readonly identities: IdentityStore,
    private readonly resources: ResourceStore,
    private readonly events: EventPublisher,
    private readonly clock: Clock,
    /** Told of every set value stored, so that connected devices get it at once. */
    private readonly devices: Pick<DeviceConnections, 'setValuesChanged' | 'watched'>,
  ) {}

  async get(identity: string): Promise<IdentityState> {
    return (await findIdentity(this.identities, identity)).state;
  }

  /** Checks each value against its resource and says what to write; `parameterPrefix` locates errors. */
  private async planWrites(
    values: Record<string, ResourceValue>,
    asDevice: boolean,
    parameterPrefix: string,
  ): Promise<StateWrite[]> {
    const aliases = Object.keys(values);
    if (aliases.length === 0) throw invalidParameter(parameterPrefix || 'state', 'no resource values given');
    const definitions = await this.resources.list();
    const timestamp = this.clock.nowMicros();
    return aliases.map((alias) => {
      const parameter = parameterPrefix ? `${parameterPrefix}.${alias}` : alias;
      const definition = Object.hasOwn(definitions, alias) ? definitions[alias] : undefined;
      if (!definition) throw invalidParameter(parameter, 'no resource is defined with this alias');
      // A simulated report is what a device publishes, and devices report any defined resource.
      if (!definition.settable && !asDevice) {
        throw new GatewayError('NOT_SETTABLE', `resource "${alias}" is not settable`, { parameter });
      }
      const value = conformValue(definition, values[alias]!, parameter);
      return asDevice || !definition.sync
        ? { resource: alias, set: value, reported: value, timestamp }
        : { resource: alias, set: value, timestamp };
    });
  }

  async set(identity: string, values: Record<string, ResourceValue>, simulate: boolean): Promise<void> {
    // An unknown identity is the first thing to report, whatever its values say.
    if ((await this.identities.existing([identity])).size === 0) throw identityNotFound(identity);
    const writes = await this.planWrites(values, simulate, '');
    if (!(await this.identities.writeState(identity, writes))) throw identityNotFound(identity);
    if (!simulate) {
      this.devices.setValuesChanged(
        identity,
        writes.map((w) => ({ alias: w.resource, value: w.set!, timestamp: w.timestamp })),
      );
    } else {
      const timestamp = writes[0]!.timestamp;
      this.events.publish({
        type: 'data_in',
        identity,
        ip: null,
        protocol: 'simulate',
        timestamp,
        connection_id: null,
        payload: [{ timestamp, values: Object.fromEntries(writes.map((w) => [w.resource, w.reported!])) }],
        updated_resources: writes.map((w) => w.resource),
      });
      await this.events.kept?.();
    }
  }

  /** updateIdentities: one change applied to every identity the filters match. */
  async updateMatching(params: Static<typeof UpdateIdentitiesParams>): Promise<number> {
    const { add, remove, update, ...filters } = params;
    if (!add?.tags?.length && !remove?.tags?.length && update?.state === undefined) {
      throw invalidParameter('update', 'nothing to change: give add.tags, remove.tags or update.state');
    }
    checkTagSizes(add?.tags ?? [], 'add.tags');
    checkTagSizes(remove?.tags ?? [], 'remove.tags');
    const query = parseIdentityQuery(filters, this.clock.nowMicros());
    const state =
      update?.state === undefined ? [] : await this.planWrites(update.state, false, 'update.state');
    const matched = await this.identities.updateMatching(query, {
      addTags: add?.tags ?? [],
      removeTags: remove?.tags ?? [],
      state,
    });
    if (matched > 0 && state.length > 0) await this.pushMatched(state);
    return matched;
  }

  /**
   * Set values of updateIdentities reach the connected devices and long-polls among the matched
   * identities. The filters were applied in the store, so a watched identity is known to have been
   * matched when its state carries this update's timestamp (unless a newer report replaced it since,
   * and then there is nothing to send).
   */
  private async pushMatched(writes: StateWrite[]): Promise<void> {
    const { timestamp } = writes[0]!;
    for (const identity of this.devices.watched()) {
      const record = await this.identities.get(identity);
      if (!record) continue;
      const reached = writes.filter((w) => record.state[w.resource]?.timestamp === timestamp);
      if (reached.length > 0)
        this.devices.setValuesChanged(
          identity,
          reached.map((w) => ({ alias: w.resource, value: w.set!, timestamp })),
        );
    }
  }
}

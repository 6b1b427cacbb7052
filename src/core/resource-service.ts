import type { Clock } from './clock.js';
import { GatewayError, invalidParameter } from './errors.js';
import type { ResourceStore, StateWrite } from './ports.js';
import { checkAllowedRule, conformValue } from './resource-values.js';
import type {
  ResourceDefinition,
  ResourceDefinitionInput,
  ResourceParams,
  UpdateResourceParams,
} from './schemas/resource.js';

function notDefined(alias: string): GatewayError {
  return new GatewayError('NOT_FOUND', `resource "${alias}" is not defined`);
}

function withDefaults(input: ResourceDefinitionInput): ResourceDefinition {
  return {
    ...input,
    format: input.format ?? 'string',
    sync: input.sync ?? true,
    settable: input.settable ?? false,
    retention: input.retention ?? '12',
  };
}

function checkDefinition(definition: ResourceDefinition): ResourceDefinition {
  definition.allowed?.forEach((rule, i) => checkAllowedRule(rule, definition.format, `allowed[${i}]`));
  if (definition.initial !== undefined) {
    if (!definition.settable) throw invalidParameter('initial', 'is only valid when "settable" is true');
    return { ...definition, initial: conformValue(definition, definition.initial, 'initial') };
  }
  return definition;
}

/** Resource definitions: which aliases have state, in which format, and whether the cloud may set them. */
export class ResourceService {
  constructor(
    private readonly store: ResourceStore,
    private readonly clock: Clock,
  ) {}

  async add({ alias, ...input }: ResourceParams): Promise<void> {
    // setIdentityState takes resource values beside its own parameters, so these names could never be set.
    if (alias === 'identity' || alias === 'simulate') {
      throw invalidParameter('alias', `"${alias}" is reserved by setIdentityState`);
    }
    const definition = checkDefinition(withDefaults(input));
    const initial: StateWrite | undefined =
      definition.initial === undefined
        ? undefined
        : { resource: alias, set: definition.initial, timestamp: this.clock.nowMicros() };
    await this.store.add(alias, definition, initial);
  }

  async get(alias: string): Promise<ResourceDefinition> {
    const definition = await this.store.get(alias);
    if (!definition) throw notDefined(alias);
    return definition;
  }

  list(): Promise<Record<string, ResourceDefinition>> {
    return this.store.list();
  }

  /** The given fields replace the stored ones, null removes one; the result is checked as a whole. */
  async update({ alias, ...input }: UpdateResourceParams): Promise<void> {
    const timestamp = this.clock.nowMicros();
    const updated = await this.store.update(alias, (current) => {
      const merged: Record<string, unknown> = { ...current };
      for (const [field, value] of Object.entries(input)) {
        if (value === null) delete merged[field];
        else merged[field] = value;
      }
      const definition = checkDefinition(merged as ResourceDefinition);
      // A new initial value reaches the identities that have no value yet, as addResource's does.
      const fresh = input.initial !== undefined && input.initial !== null && definition.initial !== undefined;
      return {
        definition,
        ...(fresh && { initial: { resource: alias, set: definition.initial!, timestamp } }),
      };
    });
    if (!updated) throw notDefined(alias);
  }

  async remove(alias: string): Promise<void> {
    if (!(await this.store.remove(alias))) throw notDefined(alias);
  }
}

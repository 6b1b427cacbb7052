import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { IdentityState } from './schemas/common.js';
import { GetDeviceMetricsParams, GetDeviceMetricsResult } from './schemas/device-metrics.js';
import {
  AddIdentityParams,
  IdentityParams,
  IdentityPermission,
  IdentityView,
  MakeIdentityParams,
  RemoveIdentitiesParams,
  UpdateIdentityParams,
  UpdateIdentityPermissionParams,
} from './schemas/identity.js';
import {
  AddIdentityTagParams,
  CountIdentitiesResult,
  IdentityFilterParams,
  IdentityTagParams,
  ListIdentitiesParams,
  ListIdentitiesResult,
  RemoveIdentityTagParams,
  SetIdentityStateParams,
  StringList,
  UpdateIdentitiesParams,
} from './schemas/identity-query.js';
import {
  AliasParams,
  ResourceDefinition,
  ResourceList,
  ResourceParams,
  UpdateResourceParams,
} from './schemas/resource.js';
import {
  GetRestoreStatusParams,
  GetRestoreStatusResult,
  GetRestoreTaskStatusResult,
  RestoreTaskCreated,
  RestoreTimeParams,
  RestoreUrlParams,
  RetryRestoreTaskResult,
  TaskIdParams,
} from './schemas/restore.js';
import { GatewaySettings, GatewaySettingsPatch, SolutionPairing } from './schemas/settings.js';
import {
  AggrQueryResourceParams,
  AggrQuerySignalParams,
  AggrQuerySignalsParams,
  LatestSignalsSearchParams,
  LatestSignalsSearchResult,
  PublishDataParams,
  QueryResourceParams,
  QuerySignalParams,
  QuerySignalsParams,
  ResourceAggregateResult,
  ResourceQueryResult,
  SignalAggregateResult,
  SignalQueryResult,
} from './schemas/time-series.js';
import {
  QuerySignalSubscribersParams,
  QuerySignalsSubscribersParams,
  SignalSubscribersResult,
} from './schemas/signal-subscribers.js';

interface OperationSpec {
  summary: string;
  params: TSchema;
  /** Present for operations that answer 200 with a body. */
  result?: TSchema;
  status: 200 | 204 | 205;
}

const NoParams = Type.Object({}, { additionalProperties: false });

/**
 * The Device2 operations this gateway serves, with the schemas that validate their parameters and
 * describe their answers. The HTTP API, the OpenAPI document and the typed client all come from
 * this table.
 */
export const operations = {
  addIdentity: { summary: 'Add an identity to the gateway.', params: AddIdentityParams, status: 204 },
  makeIdentity: {
    summary: 'Generate an identity that conforms to the identity format.',
    params: MakeIdentityParams,
    result: IdentityView,
    status: 200,
  },
  getIdentity: {
    summary: 'Properties and state of an identity.',
    params: IdentityParams,
    result: IdentityView,
    status: 200,
  },
  listIdentities: {
    summary: 'List identities matching filters.',
    params: ListIdentitiesParams,
    result: ListIdentitiesResult,
    status: 200,
  },
  countIdentities: {
    summary: 'Count identities matching filters.',
    params: IdentityFilterParams,
    result: CountIdentitiesResult,
    status: 200,
  },
  updateIdentity: {
    summary: 'Update the auth and locked properties of an identity.',
    params: UpdateIdentityParams,
    status: 204,
  },
  updateIdentities: {
    summary: 'Change tags and state of every identity matching filters.',
    params: UpdateIdentitiesParams,
    status: 204,
  },
  removeIdentity: {
    summary: 'Delete an identity and everything known about it.',
    params: IdentityParams,
    status: 205,
  },
  removeIdentities: {
    summary: 'Delete a comma-separated list of identities.',
    params: RemoveIdentitiesParams,
    status: 204,
  },
  getIdentityState: {
    summary: 'Set and reported values of an identity.',
    params: IdentityParams,
    result: IdentityState,
    status: 200,
  },
  setIdentityState: {
    summary: 'Assign set values of settable resources.',
    params: SetIdentityStateParams,
    status: 204,
  },
  addIdentityTag: { summary: 'Add tags to an identity.', params: AddIdentityTagParams, status: 204 },
  getIdentityTag: {
    summary: 'Values of one tag of an identity.',
    params: IdentityTagParams,
    result: StringList,
    status: 200,
  },
  listTagNames: {
    summary: 'Every tag name in the gateway.',
    params: NoParams,
    result: StringList,
    status: 200,
  },
  removeIdentityTag: {
    summary: 'Remove a tag, or some of its values, from an identity.',
    params: RemoveIdentityTagParams,
    status: 204,
  },
  getIdentityPermission: {
    summary: 'Permissions of an identity.',
    params: IdentityParams,
    result: Type.Required(IdentityPermission),
    status: 200,
  },
  updateIdentityPermission: {
    summary: 'Update permissions of an identity.',
    params: UpdateIdentityPermissionParams,
    status: 204,
  },
  publishData: {
    summary: 'Write a batch of timestamped values of an identity straight to the store.',
    params: PublishDataParams,
    status: 204,
  },
  addResource: { summary: 'Define a resource.', params: ResourceParams, status: 204 },
  getGatewayResource: {
    summary: 'Definition of one resource.',
    params: AliasParams,
    result: ResourceDefinition,
    status: 200,
  },
  getGatewayResourceList: {
    summary: 'Every resource definition, by alias.',
    params: NoParams,
    result: ResourceList,
    status: 200,
  },
  updateResource: {
    summary: 'Update a resource definition; null removes an optional field.',
    params: UpdateResourceParams,
    status: 204,
  },
  removeResource: {
    summary: 'Delete a resource definition and its state entries.',
    params: AliasParams,
    status: 204,
  },
  getGatewaySettings: {
    summary: 'The gateway settings.',
    params: NoParams,
    result: GatewaySettings,
    status: 200,
  },
  updateGatewaySettings: {
    summary: 'Change part of the gateway settings.',
    params: GatewaySettingsPatch,
    status: 204,
  },
  getSolutionPairing: {
    summary: 'Solution pairing information.',
    params: NoParams,
    result: SolutionPairing,
    status: 200,
  },
  getDeviceMetrics: {
    summary: 'Device metrics (connections, provisioning, publishes) aggregated per 1m, 5m or 1h window.',
    params: GetDeviceMetricsParams,
    result: GetDeviceMetricsResult,
    status: 200,
  },
  queryResource: {
    summary: 'Samples of a resource of some identities, newest first by default.',
    params: QueryResourceParams,
    result: ResourceQueryResult,
    status: 200,
  },
  querySignal: {
    summary: 'Samples of one signal of an identity, newest first by default.',
    params: QuerySignalParams,
    result: SignalQueryResult,
    status: 200,
  },
  querySignals: {
    summary: 'Samples of signals of an identity, merged, newest first by default.',
    params: QuerySignalsParams,
    result: SignalQueryResult,
    status: 200,
  },
  aggrqueryResource: {
    summary: 'count/max/min/sum of a resource per 1m, 5m or 1h bucket, newest bucket first.',
    params: AggrQueryResourceParams,
    result: ResourceAggregateResult,
    status: 200,
  },
  aggrquerySignal: {
    summary: 'count/max/min/sum of one signal per 1m, 5m or 1h bucket, newest bucket first.',
    params: AggrQuerySignalParams,
    result: SignalAggregateResult,
    status: 200,
  },
  aggrquerySignals: {
    summary: 'count/max/min/sum of signals of an identity per 1m, 5m or 1h bucket, newest bucket first.',
    params: AggrQuerySignalsParams,
    result: SignalAggregateResult,
    status: 200,
  },
  latestSignalsSearch: {
    summary: 'The newest value of every signal, filtered, sorted and paged.',
    params: LatestSignalsSearchParams,
    result: LatestSignalsSearchResult,
    status: 200,
  },
  querySignalSubscribers: {
    summary: 'The sessions consuming a signal: MQTT subscriptions, the event handler, webhooks.',
    params: QuerySignalSubscribersParams,
    result: SignalSubscribersResult,
    status: 200,
  },
  querySignalsSubscribers: {
    summary: 'The sessions consuming signals of an identity (every signal by default).',
    params: QuerySignalsSubscribersParams,
    result: SignalSubscribersResult,
    status: 200,
  },
  restoreTime: {
    summary:
      'Restore archived data of a range of days: answers at once with the task; files restore in the background.',
    params: RestoreTimeParams,
    result: RestoreTaskCreated,
    status: 200,
  },
  restoreUrl: {
    summary: 'Restore daily archive files given by URL (file://, http://, https://) in the background.',
    params: RestoreUrlParams,
    result: RestoreTaskCreated,
    status: 200,
  },
  getRestoreStatus: {
    summary: 'Every restore task with its progress, newest first.',
    params: GetRestoreStatusParams,
    result: GetRestoreStatusResult,
    status: 200,
  },
  getRestoreTaskStatus: {
    summary: 'The files of a restore task: status, progress and the signals restored.',
    params: TaskIdParams,
    result: GetRestoreTaskStatusResult,
    status: 200,
  },
  retryRestoreTask: {
    summary: 'Restore the failed files of a task again.',
    params: TaskIdParams,
    result: RetryRestoreTaskResult,
    status: 200,
  },
} satisfies Record<string, OperationSpec>;

export type OperationName = keyof typeof operations;

/** The platform's long names, accepted as well. */
export const operationAliases: Record<string, OperationName> = {
  addGatewayResource: 'addResource',
  updateGatewayResource: 'updateResource',
  removeGatewayResource: 'removeResource',
};

export type OperationParams<K extends OperationName> = Static<(typeof operations)[K]['params']>;
export type OperationResult<K extends OperationName> = (typeof operations)[K] extends {
  result: infer R extends TSchema;
}
  ? Static<R>
  : void;

/** One async method per operation: the shape of the in-process service and of the HTTP client. */
export type Device2Api = {
  [K in OperationName]: (params: OperationParams<K>) => Promise<OperationResult<K>>;
};

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(operations, name);
}

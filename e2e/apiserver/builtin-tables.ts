/** Table columns of the built-in kinds, shaped after kubectl's printers (simplified). */
import { ageOf } from './human-duration.js';
import { asJsonObject, asString, isJsonObject, type Json, type JsonObject } from './json.js';
import type { CellColumn } from './resource-type.js';

function column(name: string, cell: (object: JsonObject, now: Date) => Json, options: { type?: string; priority?: number; description?: string } = {}): CellColumn {
  return {
    name,
    type: options.type ?? 'string',
    format: '',
    description: options.description ?? '',
    priority: options.priority ?? 0,
    cell,
  };
}

const metadataOf = (object: JsonObject): JsonObject => asJsonObject(object.metadata) ?? {};
const specOf = (object: JsonObject): JsonObject => asJsonObject(object.spec) ?? {};
const statusOf = (object: JsonObject): JsonObject => asJsonObject(object.status) ?? {};
const objectsIn = (value: Json | undefined): JsonObject[] => (Array.isArray(value) ? value.filter(isJsonObject) : []);

export const ageColumn = column('Age', (object, now) => ageOf(metadataOf(object).creationTimestamp, now), {
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
});

export const defaultColumns: CellColumn[] = [ageColumn];

export const namespaceColumns: CellColumn[] = [column('Status', (object) => asString(statusOf(object).phase) ?? ''), ageColumn];

function nodeStatus(object: JsonObject): string {
  const ready = objectsIn(statusOf(object).conditions).find((condition) => condition.type === 'Ready');
  let status = !ready ? 'Unknown' : ready.status === 'True' ? 'Ready' : 'NotReady';
  if (specOf(object).unschedulable === true) status += ',SchedulingDisabled';
  return status;
}

function nodeRoles(object: JsonObject): string {
  const labels = asJsonObject(metadataOf(object).labels) ?? {};
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith('node-role.kubernetes.io/')) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && typeof value === 'string') roles.add(value);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeAddress(object: JsonObject, type: string): string {
  const address = objectsIn(statusOf(object).addresses).find((candidate) => candidate.type === type);
  return asString(address?.address) ?? '<none>';
}

export const nodeColumns: CellColumn[] = [
  column('Status', nodeStatus),
  column('Roles', nodeRoles),
  ageColumn,
  column('Version', (object) => asString(asJsonObject(statusOf(object).nodeInfo)?.kubeletVersion) ?? ''),
  column('Internal-IP', (object) => nodeAddress(object, 'InternalIP'), { priority: 1 }),
  column('External-IP', (object) => nodeAddress(object, 'ExternalIP'), { priority: 1 }),
];

function podStatus(object: JsonObject): string {
  if (metadataOf(object).deletionTimestamp) return 'Terminating';
  const status = statusOf(object);
  for (const container of objectsIn(status.containerStatuses)) {
    const waiting = asJsonObject(asJsonObject(container.state)?.waiting);
    if (waiting?.reason) return String(waiting.reason);
  }
  return asString(status.reason) ?? asString(status.phase) ?? 'Unknown';
}

function podReady(object: JsonObject): string {
  const total = objectsIn(specOf(object).containers).length;
  const ready = objectsIn(statusOf(object).containerStatuses).filter((container) => container.ready === true).length;
  return `${ready}/${total}`;
}

function podRestarts(object: JsonObject): number {
  return objectsIn(statusOf(object).containerStatuses).reduce((sum, container) => sum + (typeof container.restartCount === 'number' ? container.restartCount : 0), 0);
}

export const podColumns: CellColumn[] = [
  column('Ready', podReady),
  column('Status', podStatus),
  column('Restarts', podRestarts, { type: 'string' }),
  ageColumn,
  column('IP', (object) => asString(statusOf(object).podIP) ?? '<none>', { priority: 1 }),
  column('Node', (object) => asString(specOf(object).nodeName) ?? '<none>', { priority: 1 }),
];

export const configMapColumns: CellColumn[] = [
  column('Data', (object) => Object.keys(asJsonObject(object.data) ?? {}).length + Object.keys(asJsonObject(object.binaryData) ?? {}).length, { type: 'integer' }),
  ageColumn,
];

function servicePorts(object: JsonObject): string {
  const ports = objectsIn(specOf(object).ports).map((port) => `${String(port.port)}/${asString(port.protocol) ?? 'TCP'}`);
  return ports.length ? ports.join(',') : '<none>';
}

export const serviceColumns: CellColumn[] = [
  column('Type', (object) => asString(specOf(object).type) ?? 'ClusterIP'),
  column('Cluster-IP', (object) => asString(specOf(object).clusterIP) ?? '<none>'),
  column('External-IP', () => '<none>'),
  column('Port(s)', servicePorts),
  ageColumn,
];

export const leaseColumns: CellColumn[] = [column('Holder', (object) => asString(specOf(object).holderIdentity) ?? ''), ageColumn];

export const eventColumns: CellColumn[] = [
  column('Last Seen', (object, now) => ageOf(object.lastTimestamp ?? object.eventTime ?? metadataOf(object).creationTimestamp, now)),
  column('Type', (object) => asString(object.type) ?? ''),
  column('Reason', (object) => asString(object.reason) ?? ''),
  column('Object', (object) => {
    const involved = asJsonObject(object.involvedObject) ?? {};
    return `${String(involved.kind ?? '').toLowerCase()}/${String(involved.name ?? '')}`;
  }),
  column('Message', (object) => asString(object.message) ?? ''),
];

export const crdColumns: CellColumn[] = [column('Created At', (object) => asString(metadataOf(object).creationTimestamp) ?? '', { type: 'date' })];

const count = (value: Json | undefined): number => (typeof value === 'number' ? value : 0);
const createdAt = column('Created At', (object) => asString(metadataOf(object).creationTimestamp) ?? '', { type: 'date' });

export const serviceAccountColumns: CellColumn[] = [column('Secrets', (object) => objectsIn(object.secrets).length, { type: 'integer' }), ageColumn];

/** Role and ClusterRole: kubectl prints the creation time itself, not an age. */
export const roleColumns: CellColumn[] = [createdAt];

function subjectNames(object: JsonObject, kind: string): string {
  return objectsIn(object.subjects)
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${asString(s.namespace) ?? ''}/${asString(s.name) ?? ''}` : (asString(s.name) ?? '')))
    .join(', ');
}

export const roleBindingColumns: CellColumn[] = [
  column('Role', (object) => {
    const ref = asJsonObject(object.roleRef) ?? {};
    return `${asString(ref.kind) ?? ''}/${asString(ref.name) ?? ''}`;
  }),
  ageColumn,
  column('Users', (object) => subjectNames(object, 'User'), { priority: 1 }),
  column('Groups', (object) => subjectNames(object, 'Group'), { priority: 1 }),
  column('ServiceAccounts', (object) => subjectNames(object, 'ServiceAccount'), { priority: 1 }),
];

const containerList = (object: JsonObject) => objectsIn(asJsonObject(asJsonObject(specOf(object).template)?.spec)?.containers);

export const deploymentColumns: CellColumn[] = [
  column('Ready', (object) => `${count(statusOf(object).readyReplicas)}/${count(specOf(object).replicas ?? 1)}`),
  column('Up-to-date', (object) => count(statusOf(object).updatedReplicas), { type: 'integer' }),
  column('Available', (object) => count(statusOf(object).availableReplicas), { type: 'integer' }),
  ageColumn,
  column(
    'Containers',
    (object) =>
      containerList(object)
        .map((c) => asString(c.name) ?? '')
        .join(','),
    { priority: 1 },
  ),
  column(
    'Images',
    (object) =>
      containerList(object)
        .map((c) => asString(c.image) ?? '')
        .join(','),
    { priority: 1 },
  ),
];

export const daemonSetColumns: CellColumn[] = [
  column('Desired', (object) => count(statusOf(object).desiredNumberScheduled), { type: 'integer' }),
  column('Current', (object) => count(statusOf(object).currentNumberScheduled), { type: 'integer' }),
  column('Ready', (object) => count(statusOf(object).numberReady), { type: 'integer' }),
  column('Up-to-date', (object) => count(statusOf(object).updatedNumberScheduled), { type: 'integer' }),
  column('Available', (object) => count(statusOf(object).numberAvailable), { type: 'integer' }),
  column('Node Selector', (object) => {
    const selector = asJsonObject(asJsonObject(asJsonObject(specOf(object).template)?.spec)?.nodeSelector) ?? {};
    const text = Object.entries(selector)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
    return text || '<none>';
  }),
  ageColumn,
];

export const podDisruptionBudgetColumns: CellColumn[] = [
  column('Min Available', (object) => (specOf(object).minAvailable as Json | undefined) ?? 'N/A'),
  column('Max Unavailable', (object) => (specOf(object).maxUnavailable as Json | undefined) ?? 'N/A'),
  column('Allowed Disruptions', (object) => count(statusOf(object).disruptionsAllowed), { type: 'integer' }),
  ageColumn,
];

import type { ProblemList } from './problems.js';
import type { ObjectIdentity } from './model.js';
import { readLabels, readRecord, readString } from './fields.js';
import { isDnsLabel, isDnsSubdomain } from './names.js';

export interface ParsedMeta extends ObjectIdentity {
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/** Reads metadata; `namespaced` decides whether a namespace is required or forbidden. */
export function parseMeta(raw: unknown, problems: ProblemList, namespaced: boolean | 'any'): ParsedMeta {
  const meta = readRecord(raw, 'metadata', problems) ?? {};
  const name = readString(meta.name, 'metadata.name', problems) ?? '';
  if (!name) problems.add('Required', 'metadata.name', 'is required');
  else if (!isDnsSubdomain(name)) {
    problems.add('InvalidValue', 'metadata.name', `${JSON.stringify(name)} must be a lower-case DNS subdomain of at most 253 characters`);
  }
  let namespace = readString(meta.namespace, 'metadata.namespace', problems) ?? '';
  if (namespaced === true && !namespace) namespace = 'default';
  // the API server clears the namespace of cluster-scoped objects
  if (namespaced === false) namespace = '';
  if (namespace && !isDnsLabel(namespace)) {
    problems.add('InvalidValue', 'metadata.namespace', `${JSON.stringify(namespace)} must be a lower-case DNS label of at most 63 characters`);
  }
  return {
    name,
    namespace,
    uid: readString(meta.uid, 'metadata.uid', problems) ?? '',
    creationTimestamp: readString(meta.creationTimestamp, 'metadata.creationTimestamp', problems) ?? '',
    generation: typeof meta.generation === 'number' ? meta.generation : 0,
    labels: readLabels(meta.labels, 'metadata.labels', problems),
  };
}

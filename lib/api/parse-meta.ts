import type { ProblemList } from './problems.js';
import type { ObjectIdentity } from './model.js';
import { readRecord, readString, readStringMap } from './fields.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface ParsedMeta extends ObjectIdentity {
  readonly namespace: string;
  readonly labels: Record<string, string>;
}

/** Reads metadata; `namespaced` decides whether a namespace is required or forbidden. */
export function parseMeta(raw: unknown, problems: ProblemList, namespaced: boolean | 'any'): ParsedMeta {
  const meta = readRecord(raw, 'metadata', problems) ?? {};
  const name = readString(meta.name, 'metadata.name', problems) ?? '';
  if (!name) problems.add('Required', 'metadata.name', 'is required');
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    problems.add('InvalidValue', 'metadata.name', `"${name}" must be a lower-case DNS subdomain`);
  }
  let namespace = readString(meta.namespace, 'metadata.namespace', problems) ?? '';
  if (namespaced === true && !namespace) namespace = 'default';
  if (namespaced === false) namespace = '';
  return {
    name,
    namespace,
    uid: readString(meta.uid, 'metadata.uid', problems) ?? '',
    creationTimestamp: readString(meta.creationTimestamp, 'metadata.creationTimestamp', problems) ?? '',
    generation: typeof meta.generation === 'number' ? meta.generation : 0,
    labels: readStringMap(meta.labels, 'metadata.labels', problems),
  };
}

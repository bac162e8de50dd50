/** Small typed readers over untrusted JSON that record problems instead of throwing. */
import type { ProblemList } from './problems.js';
import type { LabelSelector, LabelSelectorRequirement } from './wire.js';
import { parseIpSpec, parseCidr, parseIp, formatIp, type IpInterval, type Family } from './ip.js';
import { errorMessage } from '../errors.js';
import { isLabelKey, isLabelValue, SELECTOR_MAX_TERMS } from './names.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readRecord(value: unknown, path: string, problems: ProblemList): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) {
    problems.add('InvalidType', path, 'must be an object');
    return undefined;
  }
  return value;
}

export function readString(value: unknown, path: string, problems: ProblemList): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    problems.add('InvalidType', path, 'must be a string');
    return undefined;
  }
  return value;
}

export function readBoolean(value: unknown, path: string, problems: ProblemList): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') {
    problems.add('InvalidType', path, 'must be true or false');
    return undefined;
  }
  return value;
}

export function readInteger(value: unknown, path: string, problems: ProblemList, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    problems.add('InvalidType', path, 'must be an integer');
    return undefined;
  }
  if (value < min || value > max) {
    problems.add('InvalidValue', path, `must be between ${min} and ${max}`);
    return undefined;
  }
  return value;
}

export function readStringArray(value: unknown, path: string, problems: ProblemList): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add('InvalidType', path, 'must be a list of strings');
    return [];
  }
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item === 'string') out.push(item);
    else problems.add('InvalidType', `${path}[${i}]`, 'must be a string');
  });
  return out;
}

function readStringMap(value: unknown, path: string, problems: ProblemList): Record<string, string> {
  const rec = readRecord(value, path, problems);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec ?? {})) {
    if (typeof v === 'string') out[k] = v;
    else problems.add('InvalidType', keyPath(path, k), 'must be a string');
  }
  return out;
}

/** Path of one entry of a map; keys are quoted because label keys hold dots and slashes. */
function keyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

/** A map of label keys to label values, as Kubernetes validates metadata.labels. */
export function readLabels(value: unknown, path: string, problems: ProblemList): Record<string, string> {
  const labels = readStringMap(value, path, problems);
  for (const [key, text] of Object.entries(labels)) {
    if (!isLabelKey(key))
      problems.add(
        'InvalidValue',
        keyPath(path, key),
        'is not a valid label key (an optional DNS subdomain prefix and "/", then at most 63 alphanumerics, "-", "_" or ".", alphanumeric at both ends)',
      );
    if (!isLabelValue(text))
      problems.add('InvalidValue', keyPath(path, key), `${JSON.stringify(text)} is not a valid label value (at most 63 alphanumerics, "-", "_" or ".", alphanumeric at both ends)`);
  }
  return labels;
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

export function readSelector(value: unknown, path: string, problems: ProblemList): LabelSelector | undefined {
  const rec = readRecord(value, path, problems);
  if (!rec) return undefined;
  const selector: LabelSelector = {};
  if (rec.matchLabels !== undefined && rec.matchLabels !== null) {
    selector.matchLabels = readLabels(rec.matchLabels, `${path}.matchLabels`, problems);
    if (Object.keys(selector.matchLabels).length > SELECTOR_MAX_TERMS) problems.add('InvalidValue', `${path}.matchLabels`, `must have at most ${SELECTOR_MAX_TERMS} entries`);
  }
  if (rec.matchExpressions !== undefined && rec.matchExpressions !== null) {
    if (!Array.isArray(rec.matchExpressions)) {
      problems.add('InvalidType', `${path}.matchExpressions`, 'must be a list');
    } else if (rec.matchExpressions.length > SELECTOR_MAX_TERMS) {
      problems.add('InvalidValue', `${path}.matchExpressions`, `must have at most ${SELECTOR_MAX_TERMS} items`);
    } else {
      const exprs: LabelSelectorRequirement[] = [];
      rec.matchExpressions.forEach((raw, i) => {
        const p = `${path}.matchExpressions[${i}]`;
        // a null term is an error, not a term to skip: the API server refuses it too
        const e = raw === null ? undefined : readRecord(raw, p, problems);
        if (!e) return raw === null ? problems.add('InvalidType', p, 'must be an object') : undefined;
        const key = readString(e.key, `${p}.key`, problems);
        const op = readString(e.operator, `${p}.operator`, problems);
        const values = readStringArray(e.values, `${p}.values`, problems);
        if (!key) return problems.add('Required', `${p}.key`, 'is required');
        if (!isLabelKey(key)) return problems.add('InvalidValue', `${p}.key`, `${JSON.stringify(key)} is not a valid label key`);
        const badValue = values.find((v) => !isLabelValue(v));
        if (badValue !== undefined) return problems.add('InvalidValue', `${p}.values`, `${JSON.stringify(badValue)} is not a valid label value`);
        if (!op || !OPERATORS.has(op)) return problems.add('InvalidValue', `${p}.operator`, 'must be one of In, NotIn, Exists, DoesNotExist');
        if ((op === 'In' || op === 'NotIn') && values.length === 0) return problems.add('Required', `${p}.values`, `must not be empty for ${op}`);
        if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) return problems.add('InvalidValue', `${p}.values`, `must be empty for ${op}`);
        exprs.push({ key, operator: op as LabelSelectorRequirement['operator'], ...(values.length ? { values } : {}) });
      });
      selector.matchExpressions = exprs;
    }
  }
  return selector;
}

/** Reads a list of IP specs (single, a-b, CIDR); `family` restricts it when given. */
export function readIpSpecs(value: unknown, path: string, problems: ProblemList, options: { family?: Family; cidrOnly?: boolean; maxItems?: number } = {}): IpInterval[] {
  const out: IpInterval[] = [];
  const texts = readStringArray(value, path, problems);
  if (options.maxItems !== undefined && texts.length > options.maxItems) {
    problems.add('InvalidValue', path, `must have at most ${options.maxItems} items`);
    return out;
  }
  texts.forEach((text, i) => {
    const p = `${path}[${i}]`;
    try {
      const iv = options.cidrOnly ? parseCidr(text) : parseIpSpec(text);
      if (options.family && iv.family !== options.family) {
        problems.add('WrongFamily', p, `${JSON.stringify(text)} is not an IPv${options.family} ${options.cidrOnly ? 'CIDR' : 'address, range or CIDR'}`);
        return;
      }
      out.push(iv);
    } catch (err) {
      problems.add('InvalidIP', p, errorMessage(err));
    }
  });
  return out;
}

/** Reads one IP address of the given family; returns its canonical text. */
export function readIp(value: unknown, path: string, problems: ProblemList, family: Family): string | undefined {
  const text = readString(value, path, problems);
  if (text === undefined || text === '') return undefined;
  try {
    const ip = parseIp(text);
    if (ip.family !== family) {
      problems.add('WrongFamily', path, `"${text}" is not an IPv${family} address`);
      return undefined;
    }
    return formatIp(ip.value, ip.family);
  } catch (err) {
    problems.add('InvalidIP', path, errorMessage(err));
    return undefined;
  }
}

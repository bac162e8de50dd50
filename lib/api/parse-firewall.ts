import { ProblemList, type Parsed } from './problems.js';
import type { Firewall, FirewallAction, FirewallKind, FirewallPort, FirewallProtocol, FirewallRule } from './model.js';
import { isRecord, readInteger, readRecord, readSelector, readString } from './fields.js';
import { parseMeta } from './parse-meta.js';
import { deepFreeze } from './freeze.js';
import { parseCidr } from './ip.js';
import { errorMessage } from '../errors.js';
import { FIREWALL_MAX_RULES, FIREWALL_RULE_MAX_PORTS } from './limits.js';
import { isFirewallDnsName } from './names.js';
import { PRIORITY_MAX, PRIORITY_MIN } from './parse-policy.js';
import { firewallKey } from './policy-key.js';

export const FIREWALL_ACTIONS: readonly FirewallAction[] = ['Allow', 'Deny'];
export const FIREWALL_PROTOCOLS: readonly FirewallProtocol[] = ['TCP', 'UDP', 'SCTP'];

function readAction(value: unknown, path: string, problems: ProblemList, fallback?: FirewallAction): FirewallAction | undefined {
  const text = readString(value, path, problems);
  if (text === undefined) {
    if (fallback === undefined) problems.add('Required', path, 'is required: Allow or Deny');
    return fallback;
  }
  if (!(FIREWALL_ACTIONS as readonly string[]).includes(text)) {
    problems.add('InvalidValue', path, `${JSON.stringify(text)} must be Allow or Deny`);
    return undefined;
  }
  return text as FirewallAction;
}

function readPorts(value: unknown, path: string, problems: ProblemList): FirewallPort[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add('InvalidType', path, 'must be a list');
    return [];
  }
  if (value.length > FIREWALL_RULE_MAX_PORTS) {
    problems.add('InvalidValue', path, `must have at most ${FIREWALL_RULE_MAX_PORTS} items`);
    return [];
  }
  const out: FirewallPort[] = [];
  value.forEach((raw, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(raw)) return problems.add('InvalidType', p, 'must be an object');
    const protocol = readString(raw.protocol, `${p}.protocol`, problems);
    if (protocol === undefined) return problems.add('Required', `${p}.protocol`, 'is required: TCP, UDP or SCTP');
    if (!(FIREWALL_PROTOCOLS as readonly string[]).includes(protocol)) return problems.add('InvalidValue', `${p}.protocol`, `${JSON.stringify(protocol)} must be TCP, UDP or SCTP`);
    const port = readInteger(raw.port, `${p}.port`, problems, 1, 65535);
    if (raw.port !== undefined && raw.port !== null && port === undefined) return;
    out.push({ protocol: protocol as FirewallProtocol, ...(port !== undefined ? { port } : {}) });
  });
  return out;
}

function readRule(raw: unknown, path: string, problems: ProblemList): FirewallRule | undefined {
  if (!isRecord(raw)) {
    problems.add('InvalidType', path, 'must be an object');
    return undefined;
  }
  const before = problems.items.length;
  const action = readAction(raw.type, `${path}.type`, problems);
  const to = readRecord(raw.to, `${path}.to`, problems);
  let cidr;
  let dnsName: string | undefined;
  if (!to) {
    if (raw.to === undefined || raw.to === null) problems.add('Required', `${path}.to`, 'is required: set cidrSelector or dnsName');
  } else {
    const cidrText = readString(to.cidrSelector, `${path}.to.cidrSelector`, problems);
    const nameText = readString(to.dnsName, `${path}.to.dnsName`, problems);
    if ((cidrText === undefined) === (nameText === undefined)) {
      problems.add(cidrText === undefined ? 'Required' : 'Conflict', `${path}.to`, 'set exactly one of cidrSelector or dnsName');
    } else if (cidrText !== undefined) {
      try {
        cidr = parseCidr(cidrText);
      } catch (err) {
        problems.add('InvalidIP', `${path}.to.cidrSelector`, errorMessage(err));
      }
    } else if (nameText !== undefined) {
      if (!isFirewallDnsName(nameText)) {
        problems.add(
          'InvalidValue',
          `${path}.to.dnsName`,
          `${JSON.stringify(nameText.slice(0, 80))} is not a DNS name (labels of letters, digits and "-", at most 63 characters each; "*." may come first)`,
        );
      } else {
        dnsName = nameText.toLowerCase().replace(/\.$/, '');
      }
    }
  }
  const ports = readPorts(raw.ports, `${path}.ports`, problems);
  if (problems.items.length > before || action === undefined) return undefined;
  return { action, ...(cidr ? { cidr } : {}), ...(dnsName ? { dnsName } : {}), ports };
}

/**
 * Parses an EgressFirewall or EgressClusterFirewall. Rules keep OVN-Kubernetes' shape
 * (`egress: [{type, to: {cidrSelector | dnsName}, ports}]`); every problem is reported, with the
 * path of the field, and nothing is thrown.
 */
export function parseFirewall(raw: Record<string, unknown>, kind: FirewallKind): Parsed<Firewall> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, kind === 'EgressFirewall');
  const spec = readRecord(raw.spec, 'spec', problems) ?? {};

  const appliedTo = readRecord(spec.appliedTo, 'spec.appliedTo', problems) ?? {};
  const podSelector = readSelector(appliedTo.podSelector, 'spec.appliedTo.podSelector', problems);
  let namespaceSelector;
  if (appliedTo.namespaceSelector !== undefined && appliedTo.namespaceSelector !== null) {
    if (kind === 'EgressFirewall')
      problems.add('UnknownField', 'spec.appliedTo.namespaceSelector', 'only EgressClusterFirewall selects namespaces; an EgressFirewall applies to its own namespace');
    else namespaceSelector = readSelector(appliedTo.namespaceSelector, 'spec.appliedTo.namespaceSelector', problems);
  }
  const priority = readInteger(spec.priority, 'spec.priority', problems, PRIORITY_MIN, PRIORITY_MAX) ?? 0;
  const defaultAction = readAction(spec.defaultAction, 'spec.defaultAction', problems, 'Allow');

  const rules: FirewallRule[] = [];
  if (spec.egress === undefined || spec.egress === null) {
    problems.add('Required', 'spec.egress', 'is required: list the rules (an empty list applies only defaultAction)');
  } else if (!Array.isArray(spec.egress)) {
    problems.add('InvalidType', 'spec.egress', 'must be a list');
  } else if (spec.egress.length > FIREWALL_MAX_RULES) {
    problems.add('InvalidValue', 'spec.egress', `must have at most ${FIREWALL_MAX_RULES} rules`);
  } else {
    spec.egress.forEach((r, i) => {
      const parsed = readRule(r, `spec.egress[${i}]`, problems);
      if (parsed) rules.push(parsed);
    });
  }

  if (!problems.ok || defaultAction === undefined) return { problems: problems.items };
  const firewall: Firewall = {
    kind,
    name: meta.name,
    namespace: meta.namespace,
    key: firewallKey(kind, meta.namespace, meta.name),
    uid: meta.uid,
    creationTimestamp: meta.creationTimestamp,
    generation: meta.generation,
    spec: {
      ...(podSelector ? { podSelector } : {}),
      ...(namespaceSelector ? { namespaceSelector } : {}),
      priority,
      rules,
      defaultAction,
    },
  };
  return { value: deepFreeze(firewall), problems: [] };
}

import { GATEWAY_TRANSPORTS } from '../model.js';
/**
 * The one source of truth for the CRD schemas. `manifests/crds/` is generated from it
 * (`make crds`) and a test fails when the committed YAML differs.
 */
import { PRIORITY_MAX, PRIORITY_MIN } from '../parse-policy.js';
import {
  bool,
  cidr,
  conditions,
  defaultEipInPool,
  int,
  IPV4_OR_CIDR,
  IPV4_SPEC,
  IPV6_OR_CIDR,
  IPV6_SPEC,
  ipOrCidr,
  ipSpec,
  ipv4,
  ipv6,
  labelSelector,
  list,
  obj,
  optionalIpv4,
  optionalIpv6,
  rule,
  str,
  type Schema,
} from './openapi.js';
import {
  APPLIED_MESSAGE_MAX,
  APPLIED_POLICIES_MAX,
  FIREWALL_MAX_RULES,
  FIREWALL_RULE_MAX_PORTS,
  CLUSTER_STATUS_MAX_ITEMS,
  DEST_SUBNET_MAX_ITEMS,
  ENDPOINT_MAX_IPS,
  EXTRA_CIDR_MAX_ITEMS,
  POD_SUBNET_MAX_ITEMS,
  POOL_MAX_ITEMS,
  SLICE_MAX_ENDPOINTS,
} from '../limits.js';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, FIREWALL_DNS_NAME, FIREWALL_DNS_NAME_MAX, INTERFACE_NAME } from '../names.js';
import { FIREWALL_ACTIONS, FIREWALL_PROTOCOLS } from '../parse-firewall.js';
import { DEFAULT_GATEWAY_LABEL } from '../group.js';
import { MARK_INDEX_MAX, TUNNEL_PHASES } from '../parse-status-objects.js';
import { APPLIED_RESULTS, ERROR_CODE_PATTERN, GENERATION_MAX } from '../applied-report.js';

/** Object names as they appear inside other objects' fields ("" where a field may be unset). */
const subdomain = (extra: Schema = {}): Schema => str({ maxLength: 253, pattern: `^${DNS1123_SUBDOMAIN}$`, ...extra });
const namespaceName = (): Schema => str({ maxLength: 63, pattern: `^${DNS1123_LABEL}$` });
/** A number of addresses (counts beyond 2^53 - 1 are written as 2^53 - 1). */
const count = (): Schema => ({ type: 'integer', format: 'int64', minimum: 0 });
/** Lower-case, unicast (the group bit clear); "" means unset. */
const UNICAST_MAC = '^([0-9a-f][02468ace](:[0-9a-f]{2}){5})?$';

export interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  readonly statusSubresource: boolean;
  readonly printerColumns: readonly { name: string; type: string; jsonPath: string; description: string; priority?: number }[];
  readonly schema: Schema;
}

/**
 * Transition rules: the gateway and the egress IP of a policy are fixed when it is created, as
 * spidernet's webhook fixes them (a user deletes and recreates the policy, or moves its pods with
 * a second policy of higher priority first). Unset fields compare as their defaults, so spelling
 * a default out later is no change; an unset gateway name may be set once, pinning the policy.
 */
function immutableRules(): { rule: string; message: string; fieldPath: string }[] {
  const gateway = (x: string) => `(has(${x}.egressGatewayName) ? ${x}.egressGatewayName : '')`;
  const egressIP = (x: string, field: string, unset: string) => `(has(${x}.egressIP) && has(${x}.egressIP.${field}) ? ${x}.egressIP.${field} : ${unset})`;
  const fields: readonly [string, string][] = [
    ['ipv4', "''"],
    ['ipv6', "''"],
    ['useNodeIP', 'false'],
    ['allocatorPolicy', "'default'"],
  ];
  return [
    {
      rule: `${gateway('oldSelf')} == '' || ${gateway('self')} == ${gateway('oldSelf')}`,
      message: 'is immutable once set: create a new policy to use another gateway',
      fieldPath: '.egressGatewayName',
    },
    ...fields.map(([field, unset]) => ({
      rule: `${egressIP('self', field, unset)} == ${egressIP('oldSelf', field, unset)}`,
      message: 'is immutable: create a new policy to change the egress IP',
      fieldPath: `.egressIP.${field}`,
    })),
  ];
}

const policySpec = (cluster: boolean): Schema =>
  obj(
    {
      egressGatewayName: subdomain({
        pattern: `^(${DNS1123_SUBDOMAIN})?$`,
        description: `The EgressGateway whose nodes and pool this policy uses. Unset: the gateway named by the namespace label ${DEFAULT_GATEWAY_LABEL}, else the one with clusterDefault: true. Cannot be changed or removed once set.`,
      }),
      egressIP: obj(
        {
          ipv4: optionalIpv4({ description: 'Explicit IPv4 egress IP; must be inside the gateway pool.' }),
          ipv6: optionalIpv6({ description: 'Explicit IPv6 egress IP; must be inside the gateway pool.' }),
          useNodeIP: bool({ default: false, description: "Leave with the gateway node's own IP instead of an EIP." }),
          allocatorPolicy: str({ enum: ['default', 'rr'], default: 'default', description: 'default: the gateway default EIP; rr: a free pool address of its own.' }),
        },
        {
          'x-kubernetes-validations': [
            rule(
              "!(has(self.useNodeIP) && self.useNodeIP) || ((!has(self.ipv4) || self.ipv4 == '') && (!has(self.ipv6) || self.ipv6 == ''))",
              'useNodeIP cannot be combined with ipv4 or ipv6',
            ),
          ],
        },
      ),
      appliedTo: obj(
        {
          podSelector: { ...labelSelector(), description: 'Pods (by label) whose traffic this policy applies to.' },
          podSubnet: list(cidr(), { minItems: 1, maxItems: POD_SUBNET_MAX_ITEMS, description: 'Pod source CIDRs this policy applies to.' }),
          ...(cluster ? { namespaceSelector: { ...labelSelector(), description: 'Namespaces the pods may be in (all when absent).' } } : {}),
        },
        { 'x-kubernetes-validations': [rule('has(self.podSelector) != has(self.podSubnet)', 'set exactly one of podSelector or podSubnet')] },
      ),
      destSubnet: list(ipSpec(), { maxItems: DEST_SUBNET_MAX_ITEMS, description: 'Only these destinations take the gateway (all external ones when empty).' }),
      excludeDestSubnet: list(ipSpec(), { maxItems: DEST_SUBNET_MAX_ITEMS, description: 'These destinations never take the gateway.' }),
      priority: int({ minimum: PRIORITY_MIN, maximum: PRIORITY_MAX, default: 0, description: 'Higher wins where policies overlap; then the older object, then namespace/name.' }),
    },
    { required: ['appliedTo'], 'x-kubernetes-validations': immutableRules() },
  );

const policyStatus = (): Schema =>
  obj({
    egressGatewayName: subdomain({ pattern: `^(${DNS1123_SUBDOMAIN})?$`, description: 'The EgressGateway in use: spec.egressGatewayName, or the default it resolved to.' }),
    eip: obj({ ipv4: optionalIpv4(), ipv6: optionalIpv6() }),
    node: subdomain({ pattern: `^(${DNS1123_SUBDOMAIN})?$`, description: 'The gateway node currently carrying this policy.' }),
    conditions: conditions(),
  });

const policyColumns = [
  { name: 'Gateway', type: 'string', jsonPath: '.status.egressGatewayName', description: 'EgressGateway in use (named, or the default)' },
  { name: 'Ipv4', type: 'string', jsonPath: '.status.eip.ipv4', description: 'IPv4 egress IP' },
  { name: 'Ipv6', type: 'string', jsonPath: '.status.eip.ipv6', description: 'IPv6 egress IP' },
  { name: 'EgressTunnel', type: 'string', jsonPath: '.status.node', description: 'gateway node carrying the policy' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'the policy has a gateway node and an egress IP' },
  {
    name: 'Programmed',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Programmed")].status',
    description: 'the gateway node and every node with selected pods applied it',
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'time since the policy was created' },
];

const firewallSpec = (cluster: boolean): Schema =>
  obj(
    {
      appliedTo: obj({
        podSelector: { ...labelSelector(), description: 'Pods (by label) the rules apply to (every pod of the namespace when absent).' },
        ...(cluster ? { namespaceSelector: { ...labelSelector(), description: 'Namespaces the pods may be in (all when absent).' } } : {}),
      }),
      priority: int({
        minimum: PRIORITY_MIN,
        maximum: PRIORITY_MAX,
        default: 0,
        description: 'Higher is evaluated first where firewalls select the same pod; then the older object, then namespace/name.',
      }),
      defaultAction: str({ enum: [...FIREWALL_ACTIONS], default: 'Allow', description: 'What external traffic of the selected pods that no rule matches gets.' }),
      egress: list(
        obj(
          {
            type: str({ enum: [...FIREWALL_ACTIONS], description: 'Allow or Deny; the first matching rule decides.' }),
            to: obj(
              {
                cidrSelector: cidr({ description: 'Destination CIDR.' }),
                dnsName: str({
                  maxLength: FIREWALL_DNS_NAME_MAX,
                  pattern: `^${FIREWALL_DNS_NAME}$`,
                  description: 'Destination name as the pod resolves it; "*.example.com" matches names below example.com.',
                }),
              },
              { 'x-kubernetes-validations': [rule('has(self.cidrSelector) != has(self.dnsName)', 'set exactly one of cidrSelector or dnsName')] },
            ),
            ports: list(
              obj(
                {
                  protocol: str({ enum: [...FIREWALL_PROTOCOLS] }),
                  port: int({ minimum: 1, maximum: 65535, description: 'Destination port (every port of the protocol when absent).' }),
                },
                { required: ['protocol'] },
              ),
              { maxItems: FIREWALL_RULE_MAX_PORTS, description: 'Protocols and ports the rule matches (all when empty).' },
            ),
          },
          { required: ['type', 'to'] },
        ),
        { maxItems: FIREWALL_MAX_RULES, description: 'Rules in order: the first one matching a packet decides.' },
      ),
    },
    { required: ['egress'] },
  );

const firewallColumns = [
  { name: 'Rules', type: 'integer', jsonPath: '.status.rules', description: 'rules accepted' },
  { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status', description: 'the spec is valid' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'time since the firewall was created' },
];

const firewallStatus = (): Schema => obj({ rules: int({ minimum: 0, maximum: FIREWALL_MAX_RULES }), conditions: conditions() });

/** EgressTunnel status.applied: written by the node's own agent (lib/api/applied-report.ts). */
const appliedReport = (): Schema =>
  obj(
    {
      result: str({ enum: [...APPLIED_RESULTS], description: 'Whether the last apply of this node succeeded.' }),
      code: str({ pattern: ERROR_CODE_PATTERN, description: 'Error code of the first failure (docs/errors.md).' }),
      message: str({ maxLength: APPLIED_MESSAGE_MAX, description: 'The first failure, in words.' }),
      truncated: bool({ description: `More than ${APPLIED_POLICIES_MAX} policies: the list is cut.` }),
      policies: list(
        obj(
          {
            namespace: namespaceName(),
            name: subdomain(),
            generation: { type: 'integer', format: 'int64', minimum: 1, maximum: GENERATION_MAX },
            node: subdomain({ description: 'The gateway node carrying the policy, as this node applied it.' }),
          },
          { required: ['name', 'generation', 'node'] },
        ),
        { maxItems: APPLIED_POLICIES_MAX, description: 'Policies this node has a part in (gateway, or selected pods here) as of its last apply.' },
      ),
    },
    { required: ['result'], description: "What this node's agent last applied; written by that agent." },
  );

const endpoints = (): Schema =>
  list(
    obj(
      {
        ns: namespaceName(),
        pod: subdomain(),
        node: subdomain(),
        ipv4: list(ipv4(), { maxItems: ENDPOINT_MAX_IPS }),
        ipv6: list(ipv6(), { maxItems: ENDPOINT_MAX_IPS }),
      },
      { required: ['ns', 'pod', 'node'] },
    ),
    { maxItems: SLICE_MAX_ENDPOINTS },
  );

/** Addresses and CIDRs of each family, as the controller writes them into EgressClusterInfo status. */
const cidrList = (): Schema =>
  obj({
    ipv4: list(ipOrCidr(IPV4_OR_CIDR), { maxItems: CLUSTER_STATUS_MAX_ITEMS }),
    ipv6: list(ipOrCidr(IPV6_OR_CIDR), { maxItems: CLUSTER_STATUS_MAX_ITEMS }),
  });

export const KIND_DEFINITIONS: readonly KindDefinition[] = [
  {
    kind: 'EgressGateway',
    plural: 'egressgateways',
    singular: 'egressgateway',
    shortNames: ['egw'],
    scope: 'Cluster',
    statusSubresource: true,
    printerColumns: [
      { name: 'Ipv4DefaultEIP', type: 'string', jsonPath: '.status.defaultEIP.ipv4', description: 'the IPv4 EIP of policies with allocatorPolicy default' },
      { name: 'Ipv6DefaultEIP', type: 'string', jsonPath: '.status.defaultEIP.ipv6', description: 'the IPv6 EIP of policies with allocatorPolicy default' },
      { name: 'ClusterDefault', type: 'boolean', jsonPath: '.spec.clusterDefault', description: 'asks to be the gateway of policies without one' },
      { name: 'Ipv4Total', type: 'integer', jsonPath: '.status.ipUsage.ipv4Total', description: 'IPv4 pool addresses that can be handed out' },
      { name: 'Ipv4Free', type: 'integer', jsonPath: '.status.ipUsage.ipv4Free', description: 'of those, held by no policy' },
      { name: 'Ipv6Total', type: 'integer', jsonPath: '.status.ipUsage.ipv6Total', description: 'IPv6 pool addresses that can be handed out' },
      { name: 'Ipv6Free', type: 'integer', jsonPath: '.status.ipUsage.ipv6Free', description: 'of those, held by no policy' },
    ],
    schema: obj(
      {
        spec: obj(
          {
            clusterDefault: bool({
              default: false,
              description: 'Policies without egressGatewayName (and without a namespace default) use this gateway; the oldest such gateway wins.',
            }),
            transport: str({
              enum: [...GATEWAY_TRANSPORTS],
              default: 'vxlan',
              description:
                'How workers reach the gateway nodes: vxlan (encapsulated, any network) or native (routed to the node LAN address; workers and gateway nodes on one L2 segment).',
            }),
            nodeSelector: obj({ selector: labelSelector() }, { required: ['selector'] }),
            ippools: obj(
              {
                ipv4: list(ipSpec(IPV4_SPEC), { maxItems: POOL_MAX_ITEMS, description: 'IPv4 egress IPs: single addresses, a-b ranges or CIDRs.' }),
                ipv6: list(ipSpec(IPV6_SPEC), { maxItems: POOL_MAX_ITEMS, description: 'IPv6 egress IPs: single addresses, a-b ranges or CIDRs.' }),
                ipv4DefaultEIP: optionalIpv4({ description: 'EIP of policies with allocatorPolicy default (first pool address when unset).' }),
                ipv6DefaultEIP: optionalIpv6(),
              },
              { 'x-kubernetes-validations': [defaultEipInPool(4), defaultEipInPool(6)] },
            ),
          },
          { required: ['nodeSelector'] },
        ),
        status: obj({
          nodeList: list(
            obj({
              name: str(),
              status: str(),
              eips: list(obj({ ipv4: str(), ipv6: str(), policies: list(obj({ name: str(), namespace: str() })) })),
            }),
          ),
          ipUsage: obj({ ipv4Total: count(), ipv4Free: count(), ipv6Total: count(), ipv6Free: count() }),
          defaultEIP: obj({ ipv4: optionalIpv4(), ipv6: optionalIpv6() }),
          rebalance: obj({
            request: str({ maxLength: 63, description: 'The token of the last rebalance request (annotation egress.sluice.dev/rebalance) the controller took up.' }),
            state: str({ enum: ['InProgress', 'Done', 'Invalid'] }),
            remaining: count(),
          }),
          conditions: conditions(),
        }),
      },
      { required: ['spec'] },
    ),
  },
  {
    kind: 'EgressPolicy',
    plural: 'egresspolicies',
    singular: 'egresspolicy',
    shortNames: ['egp'],
    scope: 'Namespaced',
    statusSubresource: true,
    printerColumns: policyColumns,
    schema: obj({ spec: policySpec(false), status: policyStatus() }, { required: ['spec'] }),
  },
  {
    kind: 'EgressClusterPolicy',
    plural: 'egressclusterpolicies',
    singular: 'egressclusterpolicy',
    shortNames: ['egcp'],
    scope: 'Cluster',
    statusSubresource: true,
    printerColumns: policyColumns,
    schema: obj({ spec: policySpec(true), status: policyStatus() }, { required: ['spec'] }),
  },
  {
    kind: 'EgressFirewall',
    plural: 'egressfirewalls',
    singular: 'egressfirewall',
    shortNames: ['egfw'],
    scope: 'Namespaced',
    statusSubresource: true,
    printerColumns: firewallColumns,
    schema: obj({ spec: firewallSpec(false), status: firewallStatus() }, { required: ['spec'] }),
  },
  {
    kind: 'EgressClusterFirewall',
    plural: 'egressclusterfirewalls',
    singular: 'egressclusterfirewall',
    shortNames: ['egcfw'],
    scope: 'Cluster',
    statusSubresource: true,
    printerColumns: firewallColumns,
    schema: obj({ spec: firewallSpec(true), status: firewallStatus() }, { required: ['spec'] }),
  },
  {
    kind: 'EgressEndpointSlice',
    plural: 'egressendpointslices',
    singular: 'egressendpointslice',
    shortNames: ['egep'],
    scope: 'Namespaced',
    statusSubresource: false,
    printerColumns: [],
    schema: obj({ endpoints: endpoints() }),
  },
  {
    kind: 'EgressClusterEndpointSlice',
    plural: 'egressclusterendpointslices',
    singular: 'egressclusterendpointslice',
    shortNames: ['egcep'],
    scope: 'Cluster',
    statusSubresource: false,
    printerColumns: [],
    schema: obj({ endpoints: endpoints() }),
  },
  {
    kind: 'EgressTunnel',
    plural: 'egresstunnels',
    singular: 'egresstunnel',
    shortNames: ['egt'],
    scope: 'Cluster',
    statusSubresource: true,
    printerColumns: [
      { name: 'TunnelMac', type: 'string', jsonPath: '.status.tunnel.mac', description: 'tunnel MAC' },
      { name: 'TunnelIpv4', type: 'string', jsonPath: '.status.tunnel.ipv4', description: 'tunnel IPv4' },
      { name: 'TunnelIpv6', type: 'string', jsonPath: '.status.tunnel.ipv6', description: 'tunnel IPv6' },
      { name: 'Mark', type: 'string', jsonPath: '.status.mark', description: 'routing mark index' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'tunnel phase' },
      { name: 'Applied', type: 'string', jsonPath: '.status.applied.result', description: "result of the node agent's last apply" },
    ],
    schema: obj({
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status: obj({
        tunnel: obj({
          ipv4: optionalIpv4(),
          ipv6: optionalIpv6(),
          mac: str({ pattern: UNICAST_MAC, 'x-kubernetes-validations': [rule("self != '00:00:00:00:00:00'", 'must be a unicast MAC address, not all zeros')] }),
          parent: obj({
            name: str({ pattern: `^(${INTERFACE_NAME})?$`, description: 'The NIC the tunnel rides on: 1-15 letters, digits, "_", "." or "-", not starting with "." or "-".' }),
            ipv4: optionalIpv4(),
            ipv6: optionalIpv6(),
          }),
        }),
        mark: str({
          pattern: '^([1-9][0-9]{0,9})?$',
          'x-kubernetes-validations': [rule(`self == '' || int(self) <= ${MARK_INDEX_MAX}`, `must be at most ${MARK_INDEX_MAX}`)],
          description: 'Routing-mark index of this node (decimal, 1 or more).',
        }),
        phase: str({ enum: [...TUNNEL_PHASES] }),
        applied: appliedReport(),
      }),
    }),
  },
  {
    kind: 'EgressClusterInfo',
    plural: 'egressclusterinfos',
    singular: 'egressclusterinfo',
    shortNames: ['egci'],
    scope: 'Cluster',
    statusSubresource: true,
    printerColumns: [],
    schema: obj(
      {
        spec: obj({
          autoDetect: obj({
            podCidrMode: str({ enum: ['k8s', 'auto', 'none'], default: 'k8s' }),
            clusterIP: bool({ default: true }),
            nodeIP: bool({ default: true }),
          }),
          extraCidr: list(ipSpec(), { maxItems: EXTRA_CIDR_MAX_ITEMS }),
        }),
        status: obj({ podCIDR: cidrList(), clusterIP: cidrList(), nodeIP: cidrList(), extraCidr: list(ipSpec(), { maxItems: EXTRA_CIDR_MAX_ITEMS }), conditions: conditions() }),
      },
      { 'x-kubernetes-validations': [rule("self.metadata.name == 'default'", 'the one EgressClusterInfo is named default')] },
    ),
  },
];

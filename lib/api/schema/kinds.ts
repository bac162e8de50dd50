/**
 * The one source of truth for the CRD schemas. `manifests/crds/` is generated from it
 * (`make crds`) and a test fails when the committed YAML differs.
 */
import { PRIORITY_MAX, PRIORITY_MIN } from '../parse-policy.js';
import { OPTIONAL_IPV4, OPTIONAL_IPV6, bool, CIDR, conditions, int, IP_SPEC, IPV4, IPV4_SPEC, IPV6, IPV6_SPEC, labelSelector, list, obj, rule, str, type Schema } from './openapi.js';

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

const policySpec = (cluster: boolean): Schema =>
  obj(
    {
      egressGatewayName: str({ minLength: 1, maxLength: 253, description: 'The EgressGateway whose nodes and pool this policy uses.' }),
      egressIP: obj(
        {
          ipv4: str({ pattern: OPTIONAL_IPV4, description: 'Explicit IPv4 egress IP; must be inside the gateway pool.' }),
          ipv6: str({ pattern: OPTIONAL_IPV6, description: 'Explicit IPv6 egress IP; must be inside the gateway pool.' }),
          useNodeIP: bool({ default: false, description: "Leave with the gateway node's own IP instead of an EIP." }),
          allocatorPolicy: str({ enum: ['default', 'rr'], default: 'default', description: 'default: the gateway default EIP; rr: a free pool address of its own.' }),
        },
        {
          'x-kubernetes-validations': [
            rule("!(has(self.useNodeIP) && self.useNodeIP) || ((!has(self.ipv4) || self.ipv4 == '') && (!has(self.ipv6) || self.ipv6 == ''))", 'useNodeIP cannot be combined with ipv4 or ipv6'),
          ],
        },
      ),
      appliedTo: obj(
        {
          podSelector: { ...labelSelector(), description: 'Pods (by label) whose traffic this policy applies to.' },
          podSubnet: list(str({ pattern: CIDR }), { maxItems: 64, description: 'Pod source CIDRs this policy applies to.' }),
          ...(cluster ? { namespaceSelector: { ...labelSelector(), description: 'Namespaces the pods may be in (all when absent).' } } : {}),
        },
        { 'x-kubernetes-validations': [rule('has(self.podSelector) != has(self.podSubnet)', 'set exactly one of podSelector or podSubnet')] },
      ),
      destSubnet: list(str({ pattern: IP_SPEC }), { maxItems: 256, description: 'Only these destinations take the gateway (all external ones when empty).' }),
      excludeDestSubnet: list(str({ pattern: IP_SPEC }), { maxItems: 256, description: 'These destinations never take the gateway.' }),
      priority: int({ minimum: PRIORITY_MIN, maximum: PRIORITY_MAX, default: 0, description: 'Higher wins where policies overlap; then the older object, then namespace/name.' }),
    },
    { required: ['egressGatewayName', 'appliedTo'] },
  );

const policyStatus = (): Schema =>
  obj({
    eip: obj({ ipv4: str(), ipv6: str() }),
    node: str({ description: 'The gateway node currently carrying this policy.' }),
    conditions: conditions(),
  });

const policyColumns = [
  { name: 'Gateway', type: 'string', jsonPath: '.spec.egressGatewayName', description: 'EgressGateway used' },
  { name: 'Ipv4', type: 'string', jsonPath: '.status.eip.ipv4', description: 'IPv4 egress IP' },
  { name: 'Ipv6', type: 'string', jsonPath: '.status.eip.ipv6', description: 'IPv6 egress IP' },
  { name: 'EgressTunnel', type: 'string', jsonPath: '.status.node', description: 'gateway node carrying the policy' },
];

const endpoints = (): Schema =>
  list(
    obj(
      {
        ns: str(),
        pod: str(),
        node: str(),
        ipv4: list(str({ pattern: IPV4 })),
        ipv6: list(str({ pattern: IPV6 })),
      },
      { required: ['ns', 'pod', 'node'] },
    ),
    { maxItems: 100 },
  );

const cidrList = (): Schema => obj({ ipv4: list(str()), ipv6: list(str()) });

export const KIND_DEFINITIONS: readonly KindDefinition[] = [
  {
    kind: 'EgressGateway',
    plural: 'egressgateways',
    singular: 'egressgateway',
    shortNames: ['egw'],
    scope: 'Cluster',
    statusSubresource: true,
    printerColumns: [],
    schema: obj({
      spec: obj(
        {
          nodeSelector: obj({ selector: labelSelector() }, { required: ['selector'] }),
          ippools: obj({
            ipv4: list(str({ pattern: IPV4_SPEC }), { maxItems: 64, description: 'IPv4 egress IPs: single addresses, a-b ranges or CIDRs.' }),
            ipv6: list(str({ pattern: IPV6_SPEC }), { maxItems: 64, description: 'IPv6 egress IPs: single addresses, a-b ranges or CIDRs.' }),
            ipv4DefaultEIP: str({ pattern: IPV4, description: 'EIP of policies with allocatorPolicy default (first pool address when unset).' }),
            ipv6DefaultEIP: str({ pattern: IPV6 }),
          }),
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
        conditions: conditions(),
      }),
    }, { required: ['spec'] }),
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
    ],
    schema: obj({
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status: obj({
        tunnel: obj({
          ipv4: str(),
          ipv6: str(),
          mac: str({ pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' }),
          parent: obj({ name: str(), ipv4: str(), ipv6: str() }),
        }),
        mark: str(),
        phase: str({ enum: ['Pending', 'Init', 'Ready', 'NotReady', 'Failed', 'HeartbeatTimeout'] }),
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
    schema: obj({
      spec: obj({
        autoDetect: obj({
          podCidrMode: str({ enum: ['k8s', 'auto', 'none'], default: 'k8s' }),
          clusterIP: bool({ default: true }),
          nodeIP: bool({ default: true }),
        }),
        extraCidr: list(str({ pattern: IP_SPEC }), { maxItems: 256 }),
      }),
      status: obj({ podCIDR: cidrList(), clusterIP: cidrList(), nodeIP: cidrList(), extraCidr: list(str()) }),
    }, { 'x-kubernetes-validations': [rule("self.metadata.name == 'default'", 'the one EgressClusterInfo is named default')] }),
  },
];

import { ProblemList, type Parsed } from './problems.js';
import { GATEWAY_TRANSPORTS, type Gateway, type GatewayTransport } from './model.js';
import { readBoolean, readIp, readString, readIpSpecs, readRecord, readSelector, readStringArray } from './fields.js';
import { parseMeta } from './parse-meta.js';
import { intervalsContain } from './ip.js';
import { deepFreeze } from './freeze.js';
import { POOL_MAX_ITEMS } from './limits.js';
import { rebalanceRequest } from './rebalance-request.js';

export function parseGateway(raw: Record<string, unknown>): Parsed<Gateway> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, false);
  const spec = readRecord(raw.spec, 'spec', problems) ?? {};
  const clusterDefault = readBoolean(spec.clusterDefault, 'spec.clusterDefault', problems) ?? false;
  const nodeSelectorRec = readRecord(spec.nodeSelector, 'spec.nodeSelector', problems);
  const selector = readSelector(nodeSelectorRec?.selector, 'spec.nodeSelector.selector', problems);
  if (!selector) problems.add('Required', 'spec.nodeSelector.selector', 'is required: it chooses the gateway nodes');
  const pools = readRecord(spec.ippools, 'spec.ippools', problems) ?? {};
  const poolV4 = readIpSpecs(pools.ipv4, 'spec.ippools.ipv4', problems, { family: 4, maxItems: POOL_MAX_ITEMS });
  const poolV6 = readIpSpecs(pools.ipv6, 'spec.ippools.ipv6', problems, { family: 6, maxItems: POOL_MAX_ITEMS });
  const defaultEipV4 = readIp(pools.ipv4DefaultEIP, 'spec.ippools.ipv4DefaultEIP', problems, 4);
  const defaultEipV6 = readIp(pools.ipv6DefaultEIP, 'spec.ippools.ipv6DefaultEIP', problems, 6);
  if (defaultEipV4 && !intervalsContain(poolV4, defaultEipV4)) {
    problems.add('IPNotInPool', 'spec.ippools.ipv4DefaultEIP', `${defaultEipV4} is not inside spec.ippools.ipv4`);
  }
  if (defaultEipV6 && !intervalsContain(poolV6, defaultEipV6)) {
    problems.add('IPNotInPool', 'spec.ippools.ipv6DefaultEIP', `${defaultEipV6} is not inside spec.ippools.ipv6`);
  }
  const transportText = readString(spec.transport, 'spec.transport', problems) ?? 'vxlan';
  if (!(GATEWAY_TRANSPORTS as readonly string[]).includes(transportText)) {
    problems.add('InvalidValue', 'spec.transport', `"${transportText}" must be one of ${GATEWAY_TRANSPORTS.join(', ')}`);
  }
  if (!problems.ok) return { problems: problems.items };
  const rebalance = rebalanceRequest(raw.metadata);
  const gateway: Gateway = {
    name: meta.name,
    uid: meta.uid,
    creationTimestamp: meta.creationTimestamp,
    generation: meta.generation,
    clusterDefault,
    nodeSelector: selector ?? {},
    poolV4,
    poolV6,
    poolTextV4: readStringArray(pools.ipv4, '', new ProblemList()),
    poolTextV6: readStringArray(pools.ipv6, '', new ProblemList()),
    ...(defaultEipV4 ? { defaultEipV4 } : {}),
    ...(defaultEipV6 ? { defaultEipV6 } : {}),
    transport: transportText as GatewayTransport,
    ...(rebalance ? { rebalance } : {}),
  };
  return { value: deepFreeze(gateway), problems: [] };
}

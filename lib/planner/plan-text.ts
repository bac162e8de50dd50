import type { NodePlan, PolicyPlan } from './node-plan.js';

const hex = (n: number) => `0x${n.toString(16)}`;

function policyLine(p: PolicyPlan): string {
  const where = p.node ? `via ${p.node}` : 'no gateway node';
  const src = [p.snatV4, p.snatV6].filter(Boolean).join(', ') || '-';
  const state = p.active ? `leaves as ${src}` : `INACTIVE ${p.reason}: ${p.message} (traffic keeps the node's normal path)`;
  return `  ${p.kind === 'EgressPolicy' ? p.key : `cluster/${p.key}`}  gateway=${p.gateway} ${where}  role=${p.role}  pods here=${p.localEndpoints}/${p.totalEndpoints}  priority=${p.priority}\n      ${state}`;
}

/** Human-readable summary of a plan: roles, policies, tunnel, routes, EIPs. */
export function renderPlanText(plan: NodePlan): string {
  const roles = [plan.roles.gateway && 'gateway', plan.roles.worker && 'worker'].filter(Boolean).join('+') || 'idle';
  const out: string[] = [`node ${plan.node}: ${roles}`, '', `policies (first match wins, in this order):`];
  if (plan.policies.length === 0) out.push('  (none)');
  out.push(...plan.policies.map(policyLine));
  out.push('', 'egress IPs held here:');
  out.push(...(plan.eips.length ? plan.eips.map((e) => `  ${e.ip} on ${e.interface} for ${e.policies.join(', ')}`) : ['  (none)']));
  out.push('', 'tunnel:');
  if (plan.vxlan) {
    const v = plan.vxlan;
    out.push(`  ${v.device} vni ${v.vni} port ${v.port} local ${v.localIp} dev ${v.parent} mac ${v.mac} ${[v.addressV4, v.addressV6].filter(Boolean).join(' ')}`);
    for (const p of v.peers) out.push(`    peer ${p.node} ${p.underlayIp} mac ${p.mac} ${[p.tunnelIpv4, p.tunnelIpv6].filter(Boolean).join(' ')}`);
  } else out.push('  (none)');
  out.push('', `marks: mask ${hex(plan.marks.mask)}, snat-here ${hex(plan.marks.here)}`);
  out.push('', 'ip rules and routes:');
  for (const r of plan.routing.rules) {
    out.push(`  -${r.family} rule pref ${r.priority}${r.iifLo ? ' iif lo' : ''} fwmark ${hex(r.fwmark)}/${hex(r.mask)} lookup ${r.table === 254 ? 'main' : r.table}`);
  }
  for (const r of plan.routing.routes) out.push(`  -${r.family} route table ${r.table} ${r.dst} via ${r.via} dev ${r.dev}${r.onlink ? ' onlink' : ''}`);
  if (plan.routing.rules.length === 0) out.push('  (none)');
  out.push('', 'nft sets:');
  for (const s of plan.nft.sets) out.push(`  ${s.name} (${s.type}${s.interval ? ', interval' : ''}): ${s.elements.length} element(s)`);
  if (plan.notices?.length) out.push('', 'status not used:', ...plan.notices.map((n) => `  ${n}`));
  out.push('', 'sysctls:');
  out.push(...(plan.sysctls.length ? plan.sysctls.map((s) => `  ${s.key} = ${s.value}`) : ['  (none)']));
  return `${out.join('\n')}\n`;
}

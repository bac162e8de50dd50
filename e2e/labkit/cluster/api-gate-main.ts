/**
 * The lab's RBAC gate as a daemon in the control namespace (see api-gate.ts):
 *   node api-gate-main.js --upstream http://127.0.0.1:6443 --rbac rbac.json --log gate.jsonl \
 *     --identity agent=0.0.0.0:6444=sluice-system/sluice-agent --identity controller=127.0.0.1:6445=sluice-system/sluice-controller
 * An identity may name several ServiceAccounts (comma-separated): a process holding both roles.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { pino } from 'pino';
import { startApiGate, type GateIdentity } from './api-gate.js';
import { Rbac, serviceAccountUser } from './rbac.js';
import { API_GATE_READY } from './api-gate-daemon.js';

function parseIdentity(text: string, previous: GateIdentity[] = []): GateIdentity[] {
  const m = /^([a-z-]+)=(.+):(\d+)=(.+)$/.exec(text);
  if (!m) throw new Error(`--identity ${text}: expected NAME=HOST:PORT=NS/SA[,NS/SA]`);
  const users = m[4]!.split(',').map((sa) => {
    const [ns, name] = sa.split('/');
    if (!ns || !name) throw new Error(`--identity ${text}: "${sa}" is not NS/SA`);
    return serviceAccountUser(ns, name);
  });
  return [...previous, { name: m[1]!, host: m[2]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[3]), users }];
}

const o = new Command()
  .requiredOption('--upstream <url>')
  .requiredOption('--rbac <file>', 'JSON array of the rendered RBAC objects')
  .requiredOption('--log <file>', 'one JSON line per request')
  .requiredOption('--identity <spec>', 'NAME=HOST:PORT=NS/SA[,NS/SA] (repeatable)', parseIdentity)
  .option('--conflict-group <group>', 'answer the first update of each resource of this API group with 409 Conflict (repeatable)', (g: string, prev: string[] = []) => [...prev, g])
  .parse()
  .opts<{ upstream: string; rbac: string; log: string; identity: GateIdentity[]; conflictGroup?: string[] }>();

const log = pino({ base: { component: 'api-gate' } });
const gate = await startApiGate({
  upstream: o.upstream,
  identities: o.identity,
  rbac: new Rbac(JSON.parse(readFileSync(o.rbac, 'utf8')) as unknown[]),
  logFile: o.log,
  ...(o.conflictGroup ? { conflictGroups: o.conflictGroup } : {}),
});
log.info({ ports: Object.fromEntries(gate.ports) }, API_GATE_READY);
const stop = () => void gate.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

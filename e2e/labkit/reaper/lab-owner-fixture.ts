/**
 * For reaper tests: builds a small cluster lab (one worker, no agents) plus a daemon that forks, prints
 * `up` once it is up, and waits to be killed. `lab-owner-fixture.js NAME BASEDIR`.
 */
import { Lab } from '../lab.js';

const [name, baseDir] = process.argv.slice(2);
if (name === undefined || baseDir === undefined) throw new Error('usage: lab-owner-fixture.js NAME BASEDIR');
const lab = await Lab.up(name, { workers: 1, gateways: 0, agents: false, nodeGraceSeconds: 5, baseDir });
// A child the daemon forks: it is in the daemon's group and namespace, not in the lab's records.
await lab.addDaemon({ role: 'forking-sleeper', netns: await lab.netnsOf({ node: 'worker-1' }), argv: ['sh', '-c', 'sleep 600 & sleep 600'] });
process.stdout.write('up\n');
setInterval(() => undefined, 60_000);

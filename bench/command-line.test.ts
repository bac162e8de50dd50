import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';

const ENTRY_POINTS = [
  'run.js',
  'convergence/convergence.js',
  'dataplane/nft-apply.js',
  'dataplane/noop-apply.js',
  'failover/failover.js',
  'firewall/firewall.js',
  'firewall/hold-worker.js',
  'liveness/detection.js',
  'plan/plan.js',
  'plan/takeover.js',
  'scale/agent-plan.js',
  'scale/idle.js',
  'scale/scale.js',
  'throughput/throughput.js',
];

const run = (entry: string, args: string[]) => execa(process.execPath, [fileURLToPath(new URL(entry, import.meta.url)), ...args], { reject: false, timeout: 60_000 });

for (const entry of ENTRY_POINTS) {
  test(`${entry}: --help prints the usage and exits 0; an unknown flag says so, prints the usage and exits 2`, async () => {
    const help = await run(entry, ['--help']);
    assert.equal(help.exitCode, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage: .*dist/bench/${entry.replace('.', '\\.')}`));
    const wrong = await run(entry, ['--no-such-flag']);
    assert.equal(wrong.exitCode, 2, wrong.stderr);
    const [first, second] = wrong.stderr.split('\n');
    assert.equal(first, "Unknown option '--no-such-flag'");
    assert.match(second!, /^usage: /);
    assert.equal(wrong.stdout, '');
  });
}

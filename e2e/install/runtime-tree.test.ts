/**
 * The image without an image engine: stage the runtime tree exactly as the Dockerfile does
 * (image/runtime-tree.sh), check what it holds, then run the lab's agents from it the way the
 * DaemonSet runs them — only NET_ADMIN and NET_RAW, /proc/sys read-only with the node's
 * /proc/sys/net under --sysctl-root, metrics on the node IP — through seed 002's scenario. Then
 * take each capability (and the sysctl mount) away in turn and watch what breaks, so the set is
 * known to be minimal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentStatus } from '../../agent/node-agent/agent-state.js';
import { AGENT_METRICS_PORT, AGENT_STARTING_LINE, AGENT_STATUS_URL, agentDaemon } from '../labkit/cluster/agent-daemon.js';
import { agentRole } from '../labkit/plugins.js';
import { run } from '../labkit/run.js';
import type { AgentRunSpec, NodeState } from '../labkit/state.js';
import { nodeIp } from '../scenarios/support/addresses.js';
import { expectLeavesAs } from '../scenarios/support/echo.js';
import { kubectl } from '../scenarios/support/kubectl.js';
import { waitAssigned } from '../scenarios/support/policy-status.js';
import { waitFitByProbes } from '../scenarios/support/probe-state.js';
import { ScenarioLab, scenarioSkip } from '../scenarios/support/scenario-lab.js';
import { waitFor } from '../scenarios/support/wait.js';
import { daemonSetCapabilities } from './daemonset.js';
import { REPO, filesUnder, stageRuntimeTree, unresolvedImports, type RuntimeTree } from './runtime-tree.js';

/** The DaemonSet's capabilities, read from manifests/agent/daemonset.yaml: the lab proves what ships. */
const CAPABILITIES = daemonSetCapabilities();
const WORKER = 'worker-1';
const VISITOR = 'default/visitor';
const TEST_TIMEOUT_MS = 240_000;

/** Seed 002's EgressPolicy exactly as its documentation applies it, with our apiVersion. */
const SEED_002_POLICY = `apiVersion: egress.sluice.dev/v1alpha1
kind: EgressPolicy
metadata:
  name: test
  namespace: default
spec:
  egressGatewayName: default
  appliedTo:
    podSelector:
      matchLabels:
        app: "visitor"
`;
const SEED_002_REF = { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressPolicy', metadata: { name: 'test', namespace: 'default' } };

const npmMissing = spawnSync('npm', ['--version']).status === 0 ? false : 'skipped: npm is not installed (the runtime tree is staged with npm ci --omit=dev)';

describe('the runtime tree the image copies', { skip: npmMissing }, () => {
  let dir: string;
  let tree: RuntimeTree;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-runtime-'));
    // as the image's /opt/sluice: readable by every uid, the controller replicas run as 65532
    await chmod(dir, 0o755);
    tree = await stageRuntimeTree(join(dir, 'opt-sluice'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('holds the production dependencies, the compiled CLI and library, the addon, and nothing else', async () => {
    const files = await filesUnder(tree.root);
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies))
      assert.ok(
        files.some((f) => f.startsWith(`node_modules/${dep}/`)),
        `dependency ${dep}`,
      );
    for (const dev of Object.keys(pkg.devDependencies).filter((d) => !d.startsWith('@types/')))
      assert.ok(!files.some((f) => f.startsWith(`node_modules/${dev}/`)), `dev dependency ${dev} left out`);
    assert.ok(files.includes('native/build/Release/packet_socket.node'), 'the GARP/NA addon');
    const dist = files.filter((f) => f.startsWith('dist/'));
    assert.deepEqual(
      dist.filter((f) => /\.test\.js$|\/testing\/|^dist\/(e2e|bench)\/|^dist\/agent\/tools\/|\.ts$|\.map$/.test(f)),
      [],
      'no tests, test helpers, lab, benchmarks or build tools',
    );
    assert.deepEqual(files.filter((f) => !/^(dist|node_modules|native)\//.test(f)).sort(), ['package-lock.json', 'package.json']);
    assert.deepEqual(await unresolvedImports(tree), [], "every import of the tree's code resolves inside the tree");

    const version = JSON.parse((await run([process.execPath, tree.main, 'version', '-o', 'json'])).stdout) as { version: string; commit: string };
    assert.equal(version.version, pkg.version);
    // The offline commands load from the tree alone too (the agent's path is the lab test below).
    const seed = join(REPO, 'lib', 'planner', 'testdata', 'seed-002.yaml');
    assert.match((await run([process.execPath, tree.main, 'validate', '-f', seed])).stdout, /object\(s\) valid/);
    assert.match((await run([process.execPath, tree.main, 'plan', '--cluster', seed, '--node', 'worker-1', '-o', 'nft'])).stdout, /^table inet sluice \{/);
    const recorded = JSON.parse(await readFile(join(REPO, 'dist', 'build-info.json'), 'utf8')) as { commit: string };
    assert.equal(version.commit, recorded.commit, 'the commit this build recorded');
  });

  describe('seed 002 with agents from it, as the DaemonSet runs them', { skip: scenarioSkip }, () => {
    let env: ScenarioLab;
    let spec: AgentRunSpec;

    before(async () => {
      spec = { main: tree.main, capabilities: CAPABILITIES, containerProcSys: true };
      env = await ScenarioLab.up('rt', {
        workers: 1,
        gateways: 2,
        nodeGraceSeconds: 5,
        agent: spec,
        pods: [{ namespace: 'default', name: 'visitor', labels: { app: 'visitor' }, node: WORKER }],
      });
    });
    after(async () => env?.down());

    const node = async (name: string): Promise<NodeState> => (await env.lab.state()).nodes.find((n) => n.name === name)!;
    const agentPid = async (name: string): Promise<number> => (await env.lab.state()).daemons.find((d) => d.role === agentRole(name))!.pid!;
    const status = async (name: string): Promise<AgentStatus> => {
      const r = await env.lab.exec({ node: name }, [process.execPath, tree.main, 'status', '-o', 'json'], { allowFailure: true, timeoutMs: 20_000 });
      if (!r.stdout.trim()) throw new Error(`sluice status on ${name}: ${r.stderr.trim()}`);
      return JSON.parse(r.stdout) as AgentStatus;
    };
    const inNode = async (name: string, argv: string[]) => (await env.lab.exec({ node: name }, argv, { allowFailure: true })).stdout.trim();
    /** Restarts a node's agent with another run spec; waits for "agent starting" only, as it may never get ready. */
    const rerun = async (name: string, runSpec: AgentRunSpec, change?: (argv: string[]) => string[]) => {
      const s = await env.lab.state();
      const d = agentDaemon(s, await node(name), runSpec, AGENT_STARTING_LINE);
      await env.lab.replaceDaemon(change ? { ...d, argv: change(d.argv) } : d);
    };
    const lastApply = (name: string, what: string, ok: (s: AgentStatus) => boolean) =>
      waitFor(`${name}: ${what}`, 30_000, async () => {
        const s = await status(name);
        if (!ok(s)) throw new Error(JSON.stringify({ lastApply: s.lastApply, announcements: s.announcements }));
        return s;
      });

    test(
      'the visitor leaves with the EIP, and the gateway created the tunnel, loaded nft, wrote sysctls, added the EIP and sent GARP, with NET_ADMIN and NET_RAW only',
      { timeout: TEST_TIMEOUT_MS },
      async (t) => {
        await kubectl(env.lab, ['apply', '-f', '-'], SEED_002_POLICY);
        const at = await waitAssigned(env.lab, SEED_002_REF, { programmed: true });
        assert.ok(at.ipv4, 'an EIP was assigned');
        await expectLeavesAs(env.lab, VISITOR, at.ipv4!, { protos: ['http', 'tcp', 'udp'] });

        for (const name of [WORKER, ...env.gatewayNodes]) {
          const pid = await agentPid(name);
          const procStatus = await readFile(`/proc/${pid}/status`, 'utf8');
          assert.match(procStatus, /^CapEff:\s+0000000000003000$/m, `${name}: the agent holds exactly cap_net_admin and cap_net_raw`);
          assert.match(await readFile(`/proc/${pid}/mountinfo`, 'utf8'), /^\S+ \S+ \S+ \S+ \/proc\/sys ro[, ]/m, `${name}: /proc/sys is read-only for the agent`);
          assert.match(await readFile(`/proc/${pid}/cmdline`, 'utf8'), new RegExp(tree.main.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), `${name}: runs from the runtime tree`);
        }
        const gw = at.node;
        assert.match(await inNode(gw, ['ip', '-d', 'link', 'show', 'egress.vxlan']), /vxlan id 100 /, 'the VXLAN device');
        assert.match(await inNode(gw, ['nft', 'list', 'table', 'inet', 'sluice']), /chain egress_snat/, 'the nft table');
        assert.equal(await inNode(gw, ['cat', '/proc/sys/net/ipv4/conf/egress.vxlan/rp_filter']), '2', 'the sysctl the agent writes for its tunnel');
        assert.match(
          await inNode(gw, ['ip', '-4', 'addr', 'show', 'dev', 'eth0']),
          new RegExp(`inet ${at.ipv4!.replace(/\./g, '\\.')}/32 .*metric 20942`),
          'the EIP, tagged as ours',
        );
        const s = await status(gw);
        assert.equal(s.ready, true);
        assert.equal(s.lastApply?.ok, true, JSON.stringify(s.lastApply));
        const announced = s.announcements.find((a) => a.ip === at.ipv4);
        assert.ok(announced && announced.framesSent > 0 && !announced.lastError, `GARP for the EIP: ${JSON.stringify(s.announcements)}`);

        for (const name of [WORKER, ...env.gatewayNodes]) {
          const rss = (await readFile(`/proc/${await agentPid(name)}/status`, 'utf8')).match(/^Vm(RSS|HWM):\s+\d+ kB$/gm)?.join(', ');
          t.diagnostic(`${name} agent (${name === gw ? 'carries the policy' : 'worker or idle gateway'}): ${rss}`);
        }
      },
    );

    test("metrics and probes answer on the node IP; /status and /plan only on the node's loopback", { timeout: TEST_TIMEOUT_MS }, async () => {
      const at = await waitAssigned(env.lab, SEED_002_REF);
      const ip = nodeIp(env.info, at.node);
      const fromLan = async (url: string) => {
        const r = await env.lab.exec({ host: 'ext' }, ['curl', '-sS', '--max-time', '3', '-o', '/dev/null', '-w', '%{http_code}', url], { allowFailure: true });
        return r.exitCode === 0 ? r.stdout : `curl exit ${r.exitCode}`;
      };
      assert.equal(await fromLan(`http://${ip}:${AGENT_METRICS_PORT}/metrics`), '200');
      assert.equal(await fromLan(`http://${ip}:${AGENT_METRICS_PORT}/readyz`), '200');
      assert.equal(await fromLan(`http://${ip}:${AGENT_METRICS_PORT}/status`), '404');
      assert.equal(await fromLan(`http://${ip}:${AGENT_METRICS_PORT}/plan`), '404');
      assert.equal(await fromLan(`http://${ip}:${new URL(AGENT_STATUS_URL).port}/status`), 'curl exit 7', 'nothing listens on the node IP for /status');
      assert.match(await inNode(at.node, ['curl', '-sS', '--max-time', '3', `${AGENT_STATUS_URL}/plan`]), /"node":"gateway-\d"/);

      const metrics = (await env.lab.exec({ host: 'ext' }, ['curl', '-sS', '--max-time', '3', `http://${ip}:${AGENT_METRICS_PORT}/metrics`])).stdout;
      assert.match(metrics, /^sluice_build_info\{version="[^"]+",commit="[^"]+",nodejs="v20\.[^"]+"\} 1$/m);
      assert.match(metrics, /^sluice_policy_packets_total\{policy="default\/test",rule="snat"\} [1-9]\d*$/m, "the visitor's packets, counted at the SNAT rule");
      assert.match(metrics, /^sluice_apply_duration_seconds_count\{subsystem="nft"\} [1-9]/m);
      assert.match(metrics, /^sluice_api_requests_total\{verb="watch"\} [1-9]/m);
      const promtool = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      if (promtool.error) process.stderr.write('promtool is not installed: the live metrics were not checked with it (.ci/install-deps installs it)\n');
      else assert.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);
    });

    test('each capability, and the writable /proc/sys/net, is needed: without it the agent reports what it could not do', { timeout: TEST_TIMEOUT_MS }, async () => {
      const at = await waitAssigned(env.lab, SEED_002_REF, { programmed: true });
      const gw = at.node;
      const other = env.gatewayNodes.find((n) => n !== gw)!;

      // NET_RAW: the AF_PACKET socket for gratuitous ARP. The other gateway node runs without it;
      // once its peers count it fit again (a restarted agent stays aside for the hold-down), the
      // carrier's agent restarts and hands the EIP over to it, and it cannot announce the EIP.
      assert.deepEqual([...CAPABILITIES].sort(), ['net_admin', 'net_raw'], 'the set this test takes apart');
      await rerun(other, { ...spec, capabilities: CAPABILITIES.filter((c) => c !== 'net_raw') });
      await waitFitByProbes(env.lab, WORKER, [other]);
      await waitFitByProbes(env.lab, gw, [other]);
      await rerun(gw, spec);
      const noRaw = await lastApply(
        other,
        'the announcement to fail without NET_RAW',
        (s) => JSON.stringify(s.announcements).includes('EPERM') || /not permitted/i.test(JSON.stringify(s.announcements)),
      );
      assert.equal(noRaw.announcements.find((a) => a.ip === at.ipv4)?.framesSent ?? 0, 0, 'no GARP went out');
      assert.match(await inNode(other, ['ip', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${at.ipv4!.replace(/\./g, '\\.')}/32 `), `${other} took the EIP over`);

      // NET_ADMIN: nft, links, routes and addresses. The tunnel device removed by hand must come back, and
      // cannot: the nft load (the guards) fails first, and nothing that forwards is tried without it.
      // Removed once the agent without it runs: the one before would put it back at once.
      await rerun(WORKER, { ...spec, capabilities: CAPABILITIES.filter((c) => c !== 'net_admin') });
      await env.lab.exec({ node: WORKER }, ['ip', 'link', 'del', 'egress.vxlan']);
      const noAdmin = await lastApply(WORKER, 'the apply to fail without NET_ADMIN', (s) => s.lastApply?.ok === false);
      const errors = noAdmin.lastApply!.errors.join('\n');
      assert.match(errors, /^nft: .*(not permitted|EPERM)/im, errors);
      assert.doesNotMatch(errors, /^links: /m, errors);
      assert.equal(await inNode(WORKER, ['ip', 'link', 'show', 'egress.vxlan']), '', 'the device is still missing');
      // Each failed reconcile is counted once, with the subsystems that failed in it.
      const metrics = (await env.lab.exec({ host: 'ext' }, ['curl', '-sS', '--max-time', '3', `http://${nodeIp(env.info, WORKER)}:${AGENT_METRICS_PORT}/metrics`])).stdout;
      const value = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? NaN);
      const failedRuns = value(/^sluice_reconciles_total\{result="error"\} (\d+)$/m);
      assert.ok(failedRuns >= 1, metrics);
      assert.equal(failedRuns, value(/^sluice_apply_errors_total\{subsystem="nft"\} (\d+)$/m), 'one error count per failed reconcile');

      // The sysctl mount: with /proc/sys read-only and no --sysctl-root, forwarding cannot be turned
      // back on (every node with a tunnel writes it; gw is the idle gateway node now).
      await env.lab.exec({ node: gw }, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
      await rerun(gw, spec, (argv) => {
        const i = argv.indexOf('--sysctl-root');
        return [...argv.slice(0, i), ...argv.slice(i + 2)];
      });
      const roSysctl = await lastApply(
        gw,
        'the sysctl write to fail on a read-only /proc/sys',
        (s) => s.lastApply?.errors.some((e) => /^sysctls: .*(EROFS|read-only)/i.test(e)) ?? false,
      );
      assert.equal(roSysctl.lastApply?.ok, false);
      assert.equal(await inNode(gw, ['cat', '/proc/sys/net/ipv4/ip_forward']), '0');

      // The DaemonSet's set again: everything is repaired, and once gw is fit by the probes the
      // other node's agent restarts with NET_RAW and hands the EIP back, which gw announces.
      const s = await env.lab.state();
      for (const name of [gw, WORKER]) await env.lab.replaceDaemon(agentDaemon(s, await node(name), spec));
      assert.equal(await inNode(gw, ['cat', '/proc/sys/net/ipv4/ip_forward']), '1');
      assert.match(await inNode(WORKER, ['ip', 'link', 'show', 'egress.vxlan']), /egress\.vxlan/);
      await waitFitByProbes(env.lab, WORKER, [gw]);
      await waitFitByProbes(env.lab, other, [gw]);
      await env.lab.replaceDaemon(agentDaemon(await env.lab.state(), await node(other), spec));
      await waitAssigned(env.lab, SEED_002_REF, { node: gw });
      await expectLeavesAs(env.lab, VISITOR, at.ipv4!);
      const healed = await lastApply(gw, 'GARP for the EIP it took back', (st) => (st.announcements.find((a) => a.ip === at.ipv4)?.framesSent ?? 0) > 0);
      assert.equal(healed.lastApply?.ok, true);
    });

    test('a gateway node fails: the other gateway takes the EIP over and announces it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const at = await waitAssigned(env.lab, SEED_002_REF, { programmed: true });
      const failedAt = Date.now();
      await env.lab.failNode(at.node);
      const moved = await waitAssigned(env.lab, SEED_002_REF, { notNode: at.node }, 60_000);
      assert.equal(moved.ipv4, at.ipv4, 'the EIP stays');
      await expectLeavesAs(env.lab, VISITOR, at.ipv4!, { timeoutMs: 60_000 });
      t.diagnostic(`the EIP answered through ${moved.node} ${Date.now() - failedAt} ms after ${at.node} failed`);
      const s = await status(moved.node);
      assert.ok((s.announcements.find((a) => a.ip === at.ipv4)?.framesSent ?? 0) > 0, `GARP from ${moved.node}`);
    });
  });
});

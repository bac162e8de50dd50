import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Metrics, type RuleCounter } from './metrics.js';
import { startMetricsServer, startStatusServer } from './server.js';

function filled(): { m: Metrics; rules: RuleCounter[]; requests: Record<string, number> } {
  const m = new Metrics({ build: { version: '1.2.3', commit: '0123456789abcdef0123456789abcdef01234567' } });
  m.applied('nft', 0.003, 2, true);
  m.applied('routes', 0.01, 0, false);
  m.reconciled('error');
  m.reconcileTook(0.02);
  m.eips(1, 0);
  m.announced(4, 3);
  m.policyCounts([{ role: 'gateway', state: 'active', count: 1 }]);
  m.resynced('ok', { routes: 2, nft: 0 });
  m.resynced('ok', {});
  m.observeFailover(0.18, 'failover');
  m.observeFailover(0.03, 'handoff');
  m.observeFailover(0.02, 'handoff');
  m.probePeerAlive('gateway-2', true);
  m.probeMissed('gateway-2');
  m.probeRtt(0.0004);
  m.probeRejected('malformed');
  m.probeError('EGW_ERR_PROBE_SEND');
  const rules: RuleCounter[] = [
    { kind: 'policy', policy: 'default/test', rule: 'worker', packets: 5, bytes: 300 },
    { kind: 'guard', guard: 'anti-relay', packets: 2, bytes: 120 },
  ];
  const requests: Record<string, number> = { get: 1, list: 7, watch: 9, create: 0, update: 2, patch: 0, delete: 0 };
  m.readAtScrape({
    ruleCounters: async () => rules,
    apiRequests: () => requests,
    informerRestarts: () => [{ informer: 'Pod', restarts: 3 }],
    controllerWrites: () => new Map([['endpoint-slices', 4]]),
    statusTakeovers: () => new Map([['failover', 2]]),
  });
  return { m, rules, requests };
}

test('the metrics listener serves metrics and probes, never /status or /plan', async () => {
  const { m, rules, requests } = filled();
  let ready = false;
  const srv = await startMetricsServer(m, { healthy: () => true, ready: () => ready }, '127.0.0.1', 0);
  try {
    const base = `http://127.0.0.1:${srv.port}`;
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /^sluice_build_info\{version="1\.2\.3",commit="0123456789abcdef0123456789abcdef01234567",nodejs="v\d+\.\d+\.\d+"\} 1$/m);
    assert.match(text, /^sluice_kernel_writes_total\{subsystem="nft"\} 2$/m);
    assert.match(text, /^sluice_apply_ok\{subsystem="routes"\} 0$/m);
    assert.match(text, /^sluice_apply_duration_seconds_sum\{subsystem="nft"\} 0\.003$/m);
    assert.match(text, /^sluice_apply_duration_seconds_sum\{subsystem="routes"\} 0\.01$/m);
    assert.match(text, /^# TYPE sluice_policy_packets_total counter$/m);
    assert.match(text, /^sluice_policy_packets_total\{policy="default\/test",rule="worker"\} 5$/m);
    assert.match(text, /^sluice_policy_bytes_total\{policy="default\/test",rule="worker"\} 300$/m);
    assert.match(text, /^sluice_guard_packets_total\{guard="anti-relay"\} 2$/m);
    assert.doesNotMatch(text, /sluice_policy_packets_total\{[^}]*anti-relay/, 'guard rules are not policies');
    assert.match(text, /^sluice_api_requests_total\{verb="watch"\} 9$/m);
    assert.match(text, /^sluice_informer_restarts_total\{informer="Pod"\} 3$/m);
    assert.match(text, /^sluice_reconciles_total\{result="error"\} 1$/m);
    assert.match(text, /^sluice_resyncs_total\{result="ok"\} 2$/m);
    assert.match(text, /^sluice_resync_kernel_writes_total\{subsystem="routes"\} 2$/m);
    assert.doesNotMatch(text, /^sluice_resync_kernel_writes_total\{subsystem="nft"\}/m, 'a subsystem that repaired nothing is not counted');
    assert.match(text, /^sluice_controller_writes_total\{step="endpoint-slices"\} 4$/m);
    assert.match(text, /^sluice_status_takeovers_total\{kind="failover"\} 2$/m);
    assert.match(text, /^sluice_failover_seconds_bucket\{le="0\.2",kind="failover"\} 1$/m);
    assert.match(text, /^sluice_failover_seconds_bucket\{le="0\.1",kind="failover"\} 0$/m);
    assert.match(text, /^sluice_failover_seconds_count\{kind="handoff"\} 2$/m);
    assert.match(text, /^sluice_failover_seconds_bucket\{le="0\.025",kind="handoff"\} 1$/m);
    // Refreshed at scrape time: the next scrape shows the totals as they are then.
    rules[0] = { ...rules[0]!, packets: 8 } as RuleCounter;
    requests.watch = 10;
    const again = await (await fetch(`${base}/metrics`)).text();
    assert.match(again, /^sluice_policy_packets_total\{policy="default\/test",rule="worker"\} 8$/m);
    assert.match(again, /^sluice_api_requests_total\{verb="watch"\} 10$/m);

    assert.equal((await fetch(`${base}/readyz`)).status, 503);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    for (const path of ['/status', '/plan', '/']) assert.equal((await fetch(`${base}${path}`)).status, 404, path);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await srv.close();
  }
});

test('the status listener serves /status and /plan only', async () => {
  let plan: unknown;
  const srv = await startStatusServer({ status: () => ({ node: 'n1' }), plan: () => plan }, '127.0.0.1', 0);
  try {
    const base = `http://127.0.0.1:${srv.port}`;
    assert.deepEqual(await (await fetch(`${base}/status`)).json(), { node: 'n1' });
    assert.equal((await fetch(`${base}/plan`)).status, 503, 'no plan yet');
    plan = { node: 'n1', nft: {} };
    assert.deepEqual(await (await fetch(`${base}/plan`)).json(), plan);
    for (const path of ['/metrics', '/healthz']) assert.equal((await fetch(`${base}${path}`)).status, 404, path);
  } finally {
    await srv.close();
  }
});

test('a failing kernel read leaves the rule counters out of that scrape instead of failing it', async () => {
  const m = new Metrics();
  m.readAtScrape({ ruleCounters: () => Promise.reject(new Error('netlink says no')) });
  const text = await m.text();
  assert.doesNotMatch(text, /^sluice_policy_packets_total\{/m);
  assert.match(text, /^# TYPE sluice_policy_packets_total counter$/m);
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
test(
  'every metric passes promtool check metrics',
  { skip: promtool.status === 0 ? false : "skipped: promtool is not installed (.ci/install-deps installs it from Debian's prometheus package)" },
  async () => {
    const { m } = filled();
    const withProcess = new Metrics({ processMetrics: true, build: { version: '1.2.3', commit: 'unknown' } });
    for (const [what, metrics] of [
      ['sluice metrics', m],
      ['with process metrics', withProcess],
    ] as const) {
      const r = spawnSync('promtool', ['check', 'metrics'], { input: await metrics.text(), encoding: 'utf8' });
      assert.equal(r.status, 0, `promtool (${what}): ${r.stdout}${r.stderr}`);
    }
  },
);

test("a liveness peer's series go when it leaves the probed set; the others stay", async () => {
  const m = new Metrics();
  for (const peer of ['gateway-2', 'gateway-3']) {
    m.probePeerAlive(peer, true);
    m.probeMissed(peer);
  }
  m.probePeerAlive('gateway-3', false);
  m.probePeerGone('gateway-2');
  const text = await m.text();
  assert.doesNotMatch(text, /gateway-2/);
  assert.match(text, /^sluice_probe_peer_alive\{peer="gateway-3"\} 0$/m);
  assert.match(text, /^sluice_probe_misses_total\{peer="gateway-3"\} 1$/m);
});

test('process metrics do not wake an idle process many times a second (the event-loop delay sampler)', () => {
  // A child process: its main thread's voluntary context switches over 2 s of doing nothing.
  const metricsUrl = new URL('./metrics.js', import.meta.url).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { Metrics } = await import(${JSON.stringify(metricsUrl)});
    const m = new Metrics({ processMetrics: true });
    const switches = () => Number(/^voluntary_ctxt_switches:\\s+(\\d+)/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))[1]);
    await new Promise((r) => setTimeout(r, 200));
    const before = switches();
    await new Promise((r) => setTimeout(r, 2000));
    process.stdout.write(String(switches() - before));
    await m.text();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  // prom-client's default 10 ms sampler: about 200 over 2 s; once a second: a handful
  assert.ok(Number(r.stdout) < 50, `main-thread wake-ups in 2 s of idle: ${r.stdout}`);
});

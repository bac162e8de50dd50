/**
 * Runs the real `sluice apply` / `sluice diff` inside a lab node's namespace, so every driver
 * (libnftables, iproute2, sysctls, the GARP/NA announcer) works on that node's kernel state.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab } from '../labkit/lab.js';
import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import type { DiffLine } from '../../lib/dataplane/diff-line.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';

export const SLUICE_MAIN = fileURLToPath(new URL('../../agent/main.js', import.meta.url));
// Generous: a busy 2-CPU machine can take several seconds just to load the CLI.
const CLI_TIMEOUT_MS = 60_000;

async function withPlanFile<T>(plan: NodePlan, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-dp-plan-'));
  try {
    const path = join(dir, `${plan.node}.json`);
    await writeFile(path, JSON.stringify(plan, null, 2));
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `sluice apply --plan FILE -o json` on the plan's node; throws unless it exits 0 with ok: true. */
export async function applyPlan(lab: Lab, plan: NodePlan, opts: { announce?: boolean } = {}): Promise<ApplyReport> {
  return withPlanFile(plan, async (file) => {
    const argv = [process.execPath, SLUICE_MAIN, 'apply', '--plan', file, '-o', 'json', ...(opts.announce === false ? ['--no-announce'] : [])];
    const r = await lab.exec({ node: plan.node }, argv, { timeoutMs: CLI_TIMEOUT_MS, allowFailure: true });
    let report: ApplyReport | undefined;
    try {
      report = JSON.parse(r.stdout) as ApplyReport;
    } catch {
      // reported below with stderr
    }
    if (r.exitCode !== 0 || !report?.ok) {
      throw new Error(`sluice apply on ${plan.node} failed (exit ${r.exitCode}): ${r.stderr.trim()} ${r.stdout.trim()}`);
    }
    return report;
  });
}

export interface DiffResult {
  readonly exitCode: number;
  readonly lines: readonly DiffLine[];
}

/** `sluice diff --plan FILE -o json` on the plan's node: exit 0 when the kernel matches, 1 when not. */
export async function diffPlan(lab: Lab, plan: NodePlan): Promise<DiffResult> {
  return withPlanFile(plan, async (file) => {
    const argv = [process.execPath, SLUICE_MAIN, 'diff', '--plan', file, '-o', 'json'];
    const r = await lab.exec({ node: plan.node }, argv, { timeoutMs: CLI_TIMEOUT_MS, allowFailure: true });
    if (r.exitCode !== 0 && r.exitCode !== 1) throw new Error(`sluice diff on ${plan.node} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    return { exitCode: r.exitCode, lines: JSON.parse(r.stdout) as DiffLine[] };
  });
}

/** Applies plans one node after another, in the order given (make-before-break is the caller's order). */
export async function applyAll(lab: Lab, plans: readonly NodePlan[], opts: { announce?: boolean } = {}): Promise<Map<string, ApplyReport>> {
  const out = new Map<string, ApplyReport>();
  for (const p of plans) out.set(p.node, await applyPlan(lab, p, opts));
  return out;
}

/**
 * Moves the lab's pod between the egress paths without rebuilding the lab. Every switch
 * goes through a bare node (only the CNI), and ends by asking the echo service which source
 * address it sees, so a figure is never recorded for the wrong path.
 */
import type { Lab } from '../../e2e/labkit/lab.js';
import type { BenchPlans } from './bench-cluster.js';
import { buildMinimalPath, removeMinimalPath, type MinimalPathSpec } from './minimal-path.js';
import { removeSluiceLeftovers } from './sluice-apply.js';
import { applyAll } from '../../e2e/dataplane/sluice-cli.js';

export const PATHS = ['direct', 'gateway', 'native', 'minimal'] as const;
export type EgressPath = (typeof PATHS)[number];

export const PATH_LABEL: Readonly<Record<EgressPath, string>> = {
  direct: 'direct (CNI SNAT, sluice without policy)',
  gateway: 'gateway (sluice, VXLAN)',
  native: 'native (sluice, no encapsulation)',
  minimal: 'minimal hand-written',
};

type State = EgressPath | 'bare';

export class EgressPaths {
  #state: State = 'bare';

  /** `dir` receives the plan and nft files; `nodeIp` is what the direct path is source-NATed to. */
  constructor(
    private readonly lab: Lab,
    private readonly pod: string,
    private readonly plans: BenchPlans,
    private readonly minimal: MinimalPathSpec,
    private readonly nodeIp: string,
    private readonly dir: string,
  ) {}

  async use(path: EgressPath): Promise<void> {
    if (this.#state === path) return;
    await this.leave();
    if (path === 'direct') await applyAll(this.lab, this.plans.withoutPolicy);
    else if (path === 'gateway') await applyAll(this.lab, this.plans.withPolicy);
    else if (path === 'native') await applyAll(this.lab, this.plans.native);
    else await buildMinimalPath(this.lab, this.minimal, this.dir);
    this.#state = path;
    // A path MTU learnt through the tunnel would otherwise shrink the next path's segments.
    await this.lab.exec({ pod: this.pod }, ['ip', 'route', 'flush', 'cache']);
    const want = path === 'direct' ? this.nodeIp : this.plans.eip;
    const seen = await this.lab.echoFrom({ pod: this.pod }, 'http');
    if (seen.clientIP !== want) throw new Error(`path ${path}: the echo service sees ${seen.clientIP}, expected ${want}`);
  }

  /** Leaves the nodes as the CNI built them. */
  async leave(): Promise<void> {
    const state = this.#state;
    this.#state = 'bare';
    if (state === 'minimal') await removeMinimalPath(this.lab, this.minimal);
    if (state === 'gateway' || state === 'native') await applyAll(this.lab, this.plans.withoutPolicy);
    if (state === 'gateway' || state === 'native' || state === 'direct') await removeSluiceLeftovers(this.lab, this.plans.withoutPolicy);
  }
}

/**
 * Watches the addresses on nodes' NICs for a while and records every one it was not told to
 * expect: an EIP taken from forged status (8.8.8.8, 127.0.0.1, another node's IP) shows up here
 * even if it is gone again a moment later.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '../../labkit/lab.js';
import { addressesOn } from './node-state.js';

const POLL_MS = 250;

export class AddressWatch {
  private readonly seen = new Map<string, Set<string>>();
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    lab: Lab,
    nodes: readonly string[],
    private readonly expected: (node: string, address: string) => boolean,
  ) {
    this.loop = (async () => {
      while (this.running) {
        await Promise.all(
          nodes.map(async (node) => {
            for (const a of await addressesOn(lab, node).catch(() => [] as string[])) {
              if (!this.expected(node, a)) this.seen.set(node, (this.seen.get(node) ?? new Set()).add(a));
            }
          }),
        );
        await sleep(POLL_MS);
      }
    })();
  }

  static start(lab: Lab, nodes: readonly string[], expected: (node: string, address: string) => boolean): AddressWatch {
    return new AddressWatch(lab, nodes, expected);
  }

  /** Stops polling; returns `node: address` for every unexpected address seen. */
  async stop(): Promise<string[]> {
    this.running = false;
    await this.loop;
    return [...this.seen].flatMap(([node, set]) => [...set].sort().map((a) => `${node}: ${a}`));
  }
}

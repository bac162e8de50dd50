/** When each agent applied a plan, from its log ("kernel updated" lines carry the apply's duration). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Apply {
  /** Epoch ms. */
  readonly start: number;
  readonly end: number;
  readonly writes: number;
}

export async function appliesOf(labDir: string, node: string): Promise<Apply[]> {
  const text = await readFile(join(labDir, 'logs', `agent_${node}.log`), 'utf8').catch(() => '');
  const out: Apply[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"kernel updated"')) continue;
    try {
      const o = JSON.parse(line) as { time: string | number; ms: number; writes: number };
      const end = typeof o.time === 'number' ? o.time : Date.parse(o.time);
      out.push({ start: end - o.ms, end, writes: o.writes });
    } catch {
      /* a torn line */
    }
  }
  return out;
}

/** The first apply that started at or after `since`. */
export function firstApplyAfter(applies: readonly Apply[], since: number): Apply | undefined {
  return applies.find((a) => a.start >= since);
}

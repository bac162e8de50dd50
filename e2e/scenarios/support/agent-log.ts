/**
 * Reading an agent's JSON log (pino, one object a line): when each of its informers said it would
 * try the API server again after a failed list or watch ("watch failed; restarting", with
 * retryMs), cut short when the agent saw the API server answer again ("the API server answers
 * again": every waiting informer retries then). After an outage, an agent is back once every
 * informer's last retry is behind us.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { findDaemon } from '../../labkit/lab-context.js';
import type { Lab } from '../../labkit/lab.js';
import { agentRole } from '../../labkit/plugins.js';

const RESTARTING = 'watch failed; restarting';
const ANSWERS_AGAIN = 'the API server answers again';

interface LogLine {
  time?: string;
  msg?: string;
  informer?: string;
  retryMs?: number;
}

/** For each informer that failed since `sinceMs`: when its next attempt was due (epoch ms). */
export async function informerRetries(lab: Lab, node: string, sinceMs: number): Promise<Map<string, number>> {
  const log = findDaemon(await lab.state(), agentRole(node)).log;
  const retries = new Map<string, number>();
  for (const text of (await readFile(log, 'utf8')).split('\n')) {
    if (!text.includes(RESTARTING) && !text.includes(ANSWERS_AGAIN)) continue;
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      continue;
    }
    const at = Date.parse(line.time ?? '');
    if (!(at >= sinceMs)) continue;
    if (line.msg?.startsWith(ANSWERS_AGAIN)) {
      for (const [informer, due] of retries) retries.set(informer, Math.min(due, at));
      continue;
    }
    if (line.msg !== RESTARTING || !line.informer) continue;
    retries.set(line.informer, at + (line.retryMs ?? 0));
  }
  return retries;
}

/**
 * Waits until every informer of every agent on `nodes` that failed since `sinceMs` has made its
 * next attempt and that attempt did not fail (no newer failure), plus `graceMs` for the list it
 * sent to be answered. Bounded by timeoutMs. Returns the moment the last retry was due.
 */
export async function waitInformersBack(lab: Lab, nodes: readonly string[], sinceMs: number, timeoutMs: number, graceMs = 2_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const due = await Promise.all(nodes.map(async (n) => Math.max(0, ...(await informerRetries(lab, n, sinceMs)).values())));
    const last = Math.max(0, ...due);
    if (Date.now() >= last + graceMs) {
      // A retry that failed logs a new failure with a later due time: read again to be sure.
      const again = await Promise.all(nodes.map(async (n) => Math.max(0, ...(await informerRetries(lab, n, sinceMs)).values())));
      if (Math.max(0, ...again) === last) return last;
      continue;
    }
    if (Date.now() > deadline) throw new Error(`agents' informers still retrying ${Math.round((last - Date.now()) / 1000)} s from now (waited ${timeoutMs / 1000} s)`);
    await sleep(Math.min(1_000, last + graceMs - Date.now()));
  }
}

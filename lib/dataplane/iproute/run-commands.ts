import { fromBatch, mergeSteps, NO_CHANGE, type StepResult } from '../report.js';
import { runBatch, type BatchTool } from './batch.js';
import type { Exec } from './exec.js';

/**
 * Runs commands in order, one batch process per run of consecutive commands for the same tool,
 * so a device created by `ip` exists before `bridge` adds its FDB entries.
 */
export async function runCommands(exec: Exec, commands: readonly { tool: BatchTool; command: string }[], family?: 4 | 6): Promise<StepResult> {
  if (commands.length === 0) return NO_CHANGE;
  const results: StepResult[] = [];
  let start = 0;
  while (start < commands.length) {
    const tool = commands[start]!.tool;
    let end = start;
    while (end < commands.length && commands[end]!.tool === tool) end++;
    const lines = commands.slice(start, end).map((c) => c.command);
    results.push(fromBatch(tool, await runBatch(exec, tool, lines, family)));
    start = end;
  }
  return mergeSteps(...results);
}

/**
 * What a process costs, read from /proc (no sampling profiler, no start-up of any tool): CPU time
 * from /proc/PID/stat, memory from /proc/PID/status, wake-ups from the context-switch counters of
 * every thread.
 */
import { readFile, readdir } from 'node:fs/promises';

/** Linux reports CPU times in clock ticks; USER_HZ is 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export interface ProcessSample {
  readonly at: number;
  /** user + system CPU seconds since the process started, with those of the children it waited for (`ip`, `nft`). */
  readonly cpuSeconds: number;
  readonly rssMiB: number;
  /** Peak RSS (VmHWM). */
  readonly peakRssMiB: number;
  /** Voluntary + involuntary context switches of all threads: each is a wake-up or a preemption. */
  readonly contextSwitches: number;
}

/**
 * utime + stime + cutime + cstime (fields 14–17) of a /proc/PID/stat line: the process and the
 * children it has waited for (an agent's `ip` runs are its cost too). The command name may contain
 * spaces and parentheses.
 */
export function cpuSecondsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14 → index 11
  const ticks = [11, 12, 13, 14].map((i) => Number(fields[i]));
  if (!ticks.every(Number.isFinite)) throw new Error(`unreadable stat line: ${stat.slice(0, 80)}`);
  return ticks.reduce((a, b) => a + b, 0) / TICKS_PER_SECOND;
}

/** A `Key:   123 kB` field of /proc/PID/status in MiB (or a count for unit-less fields). */
export function statusField(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)(\\s+kB)?`, 'm').exec(status);
  if (!m) throw new Error(`/proc status has no ${key}`);
  return m[2] ? Number(m[1]) / 1024 : Number(m[1]);
}

export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
  let contextSwitches = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const t = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => '');
    if (t) contextSwitches += statusField(t, 'voluntary_ctxt_switches') + statusField(t, 'nonvoluntary_ctxt_switches');
  }
  return {
    at: performance.now(),
    cpuSeconds: cpuSecondsOfStat(stat),
    rssMiB: statusField(status, 'VmRSS'),
    peakRssMiB: statusField(status, 'VmHWM'),
    contextSwitches,
  };
}

/**
 * Context switches (voluntary + involuntary) of each thread of a process, summed by thread name
 * (`node` for the main thread, `libuv-worker`, `V8 DefaultWorke`…): which threads wake up.
 */
export async function contextSwitchesByThread(pid: number): Promise<Map<string, { threads: number; switches: number }>> {
  const out = new Map<string, { threads: number; switches: number }>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const t = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => '');
    if (!t) continue;
    const name = /^Name:\s*(.*)$/m.exec(t)?.[1]?.trim() ?? '?';
    const label = tid === String(pid) ? `${name} (main)` : name;
    const entry = out.get(label) ?? { threads: 0, switches: 0 };
    entry.threads++;
    entry.switches += statusField(t, 'voluntary_ctxt_switches') + statusField(t, 'nonvoluntary_ctxt_switches');
    out.set(label, entry);
  }
  return out;
}

/** The pids of a process's living descendants (its `ip monitor` processes, say), from /proc/PID/task/TID/children. */
export async function descendantsOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const tid of tids) {
    const text = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
    for (const child of text.split(' ').filter(Boolean).map(Number)) out.push(child, ...(await descendantsOf(child)));
  }
  return out;
}

/**
 * A process with its living descendants, as one: CPU and context switches summed (a descendant that
 * exits in between moves its CPU into its parent's waited-for children, so sums stay continuous),
 * memory summed too. Children's cost is the process's cost: a long-lived monitor process it keeps.
 */
export async function sampleProcessTree(pid: number): Promise<ProcessSample & { readonly processes: number }> {
  const own = await sampleProcess(pid);
  let { cpuSeconds, rssMiB, contextSwitches } = own;
  const children = await descendantsOf(pid);
  for (const child of children) {
    const s = await sampleProcess(child).catch(() => undefined);
    if (!s) continue;
    cpuSeconds += s.cpuSeconds;
    rssMiB += s.rssMiB;
    contextSwitches += s.contextSwitches;
  }
  return { ...own, cpuSeconds, rssMiB, contextSwitches, processes: 1 + children.length };
}

export interface Usage {
  readonly seconds: number;
  readonly cpuSeconds: number;
  /** CPU used as a percentage of one core over the window. */
  readonly corePercent: number;
  readonly wakeupsPerSecond: number;
  readonly rssMiB: number;
  readonly peakRssMiB: number;
}

export function usageBetween(a: ProcessSample, b: ProcessSample): Usage {
  const seconds = (b.at - a.at) / 1000;
  const cpuSeconds = b.cpuSeconds - a.cpuSeconds;
  return {
    seconds,
    cpuSeconds,
    corePercent: seconds > 0 ? (100 * cpuSeconds) / seconds : 0,
    wakeupsPerSecond: seconds > 0 ? (b.contextSwitches - a.contextSwitches) / seconds : 0,
    rssMiB: b.rssMiB,
    peakRssMiB: b.peakRssMiB,
  };
}

/** Sum and count of a Prometheus histogram in a text exposition, optionally one label value. */
export function histogramTotals(text: string, name: string, label?: { key: string; value: string }): { sum: number; count: number } {
  const wanted = (line: string, suffix: string): number | undefined => {
    if (!line.startsWith(`${name}${suffix}`)) return undefined;
    const rest = line.slice(name.length + suffix.length);
    if (label && !rest.includes(`${label.key}="${label.value}"`)) return undefined;
    if (!label && rest.startsWith('{')) return undefined;
    return Number(rest.slice(rest.lastIndexOf(' ') + 1));
  };
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    sum += wanted(line, '_sum') ?? 0;
    count += wanted(line, '_count') ?? 0;
  }
  return { sum, count };
}

/** Parses `k=v,k2=v2` (the CLI's --labels) into a label map. */
export function parseLabels(v: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of v.split(',').filter(Boolean)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9./_-]*)=([A-Za-z0-9._-]*)$/.exec(pair);
    if (!m) throw new Error(`label ${JSON.stringify(pair)} is not key=value`);
    labels[m[1]!] = m[2]!;
  }
  return labels;
}

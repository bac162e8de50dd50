/** One human-readable difference between a plan and the kernel, as `sluice diff` prints it. */
export interface DiffLine {
  readonly subsystem: 'sysctl' | 'link' | 'route' | 'address' | 'nft';
  readonly change: 'missing' | 'extra' | 'changed' | 'conflict';
  /** Full sentence starting with `change`, e.g. `missing route table 3001 default via 172.31.0.1 …`. */
  readonly text: string;
}

/** What the denial flood (denial-flood.ts) and its test agree on. */
export const DESTINATION = '203.0.113.9';
export const POD = { address: '198.18.0.1', name: 'apps/app-a' };
export const RULE = { prefix: 'fw apps/deny-external #0', firewall: 'apps/deny-external', rule: '#0' };
export const TEST_BUDGET = { linesPerSecond: 20, burst: 20 };

export interface FloodSummary {
  readonly sent: number;
  readonly lines: readonly Record<string, unknown>[];
  readonly maxLagMs: number;
  readonly rssGrowthBytes: number;
  readonly metrics: string;
}

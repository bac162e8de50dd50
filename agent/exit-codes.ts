/** Exit codes of every sluice command (documented in README.md). */
export const EXIT = {
  ok: 0,
  /** Input was read but is invalid, or the kernel differs from the plan (`diff`). */
  invalid: 1,
  /** Wrong usage, unreadable input, or an operation failed. */
  error: 2,
} as const;

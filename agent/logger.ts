import { pino, type Logger } from 'pino';

/** JSON logs with stable keys (op, policy, vip, iface, err) on the given stream (stdout for the agent). */
export function createLogger(options: { level?: string; destination?: 1 | 2; base?: Record<string, unknown> } = {}): Logger {
  return pino(
    { level: options.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info', base: options.base ?? null, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: options.destination ?? 1, sync: true }),
  );
}

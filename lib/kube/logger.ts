import pino from 'pino';

/** The structured logger lib/kube and lib/controller write to (stable keys: op, kind, name, err). */
export type Logger = pino.Logger;

/** Default when the caller passes none: tests and library use stay quiet. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

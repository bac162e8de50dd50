import os from 'node:os';
import path from 'node:path';

/** The file that says this process's worker on this port has already been made to fail (crash-once-probe-worker.ts). */
export function crashMarker(port: number): string {
  return path.join(os.tmpdir(), `sluice-probe-crash-${process.pid}-${port}`);
}

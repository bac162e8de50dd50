/**
 * The probe worker, made to fail once: the first worker of a process and port throws 300 ms after
 * it starts (a marker file in the temp directory remembers it); the next one runs normally.
 */
import fs from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { ProberConfig } from '../prober-options.js';
import { crashMarker } from './crash-marker.js';

const marker = crashMarker((workerData as ProberConfig).port);
if (!fs.existsSync(marker)) {
  fs.writeFileSync(marker, '');
  setTimeout(() => {
    throw new Error('probe thread made to fail');
  }, 300);
}
await import('../probe-worker.js');

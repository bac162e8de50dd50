/**
 * Tears labs down when the process is interrupted, so an aborted test or a Ctrl-C during `up` leaves
 * no namespaces behind. Cleanups run concurrently, bounded; a second signal exits at once.
 */
const cleanups = new Map<symbol, () => Promise<void>>();
const CLEANUP_BOUND_MS = 20_000;
let installed = false;
let running = false;

/** Registers a cleanup; the returned function unregisters it (call it once the lab is down). */
export function cleanupOnSignal(fn: () => Promise<void>): () => void {
  const key = Symbol('lab');
  cleanups.set(key, fn);
  if (!installed) {
    installed = true;
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return () => {
    cleanups.delete(key);
    if (cleanups.size === 0 && installed && !running) {
      installed = false;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };
}

function onSignal(sig: NodeJS.Signals): void {
  const code = sig === 'SIGINT' ? 130 : 143;
  if (running) process.exit(code);
  running = true;
  process.stderr.write(`lab: ${sig}, tearing down ${cleanups.size} lab(s)\n`);
  const all = Promise.allSettled([...cleanups.values()].map((fn) => fn()));
  const bound = new Promise((resolve) => setTimeout(resolve, CLEANUP_BOUND_MS).unref());
  void Promise.race([all, bound]).then(() => process.exit(code));
}

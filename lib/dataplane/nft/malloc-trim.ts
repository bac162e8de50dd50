import koffi, { type LibraryHandle } from 'koffi';

/**
 * glibc's malloc_trim(0), run on a koffi thread: gives the kernel back the free pages of the C heap.
 * libnftables allocates tens of MiB to read or load a table of thousands of elements and frees it
 * again, but glibc keeps most of those pages, free, in the process (with MALLOC_ARENA_MAX=1, as the
 * DaemonSet runs the agent, all of it in the main heap, which is never trimmed otherwise): 10 MiB of
 * a 5000-endpoint gateway node's RSS. A C library without malloc_trim (musl) gets a no-op.
 */
export type TrimMalloc = () => Promise<void>;

export function loadMallocTrim(): TrimMalloc {
  let trim: ReturnType<LibraryHandle['func']>;
  try {
    trim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)');
  } catch {
    return () => Promise.resolve();
  }
  return () =>
    new Promise<void>((resolve) => {
      trim.async(0, () => resolve());
    });
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import koffi from 'koffi';
import { loadMallocTrim } from './malloc-trim.js';

const rssMiB = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

test('trimming gives back the C heap pages a big allocation freed but glibc kept', async () => {
  const libc = koffi.load('libc.so.6');
  const malloc = libc.func('void *malloc(size_t size)');
  const free = libc.func('void free(void *ptr)');
  const memset = libc.func('void *memset(void *s, int c, size_t n)');
  // blocks under the mmap threshold come from the heap; the last one, kept, pins its top
  const block = 64 * 1024;
  const blocks = Array.from({ length: 1600 }, () => {
    const p = malloc(block) as unknown;
    memset(p, 1, block);
    return p;
  });
  const kept = blocks.pop();
  for (const p of blocks) free(p);
  const before = rssMiB();
  await loadMallocTrim()();
  const after = rssMiB();
  free(kept);
  assert.ok(before - after > 50, `RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB: 100 MiB were freed`);
});

/**
 * The Makefile runs the compiled tests of the test sources that exist: tsc never deletes an
 * output, so a test removed from the tree stays in dist/ and must not run (it would test code
 * that is gone, or fail for it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAKEFILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'Makefile');
const hasMake = spawnSync('make', ['--version']).status === 0;

test('make test runs the tests of existing sources only, never a stale one left in dist/', { skip: hasMake ? false : 'make is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-makefile-'));
  try {
    const files = [
      'lib/api/a.test.ts',
      'dist/lib/api/a.test.js',
      'dist/lib/api/gone.test.js',
      'agent/b.test.ts',
      'dist/agent/b.test.js',
      'e2e/c.test.ts',
      'dist/e2e/c.test.js',
      'dist/e2e/old.test.js',
    ];
    for (const f of files) {
      mkdirSync(join(dir, dirname(f)), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    copyFileSync(MAKEFILE, join(dir, 'Makefile'));
    const out = execFileSync('make', ['-s', '-C', dir, '--eval=print-test-files: ; @echo $(UNIT_TESTS) $(E2E_TESTS)', 'print-test-files'], { encoding: 'utf8' });
    assert.deepEqual(out.trim().split(/\s+/), ['dist/agent/b.test.js', 'dist/lib/api/a.test.js', 'dist/e2e/c.test.js']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

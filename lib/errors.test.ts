import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ERROR_CODES, EgressError } from './errors.js';
import { PROBLEM_REASONS } from './api/problems.js';
import { PROGRAMMED_REASONS } from './api/applied-report.js';
import { NATIVE_PATH_REASONS } from './controller/native-path.js';

test('every error code, problem reason, Programmed and NativePath reason is documented in docs/errors.md, and nothing else is', async () => {
  const doc = await readFile('docs/errors.md', 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Za-z_]+)` \|/gm)].map((m) => m[1]!));
  const known = new Set<string>([...Object.keys(ERROR_CODES), ...PROBLEM_REASONS, ...PROGRAMMED_REASONS, ...NATIVE_PATH_REASONS]);
  for (const code of known) assert.ok(documented.has(code), `${code} is documented`);
  for (const code of documented) assert.ok(known.has(code), `${code} in docs/errors.md exists in code`);
});

test('errors carry their code and cause', () => {
  const cause = new Error('inner');
  const err = new EgressError('EGW_ERR_NFT', 'outer', { cause });
  assert.equal(err.code, 'EGW_ERR_NFT');
  assert.equal(err.cause, cause);
});

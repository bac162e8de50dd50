import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import { usageText } from './command-line.js';

/** Every bench program: the compiled files that take their flags through the shared parser. */
async function entryPoints(): Promise<string[]> {
  const root = fileURLToPath(new URL('.', import.meta.url));
  const files = await readdir(root, { recursive: true });
  const programs = [];
  for (const file of files.filter((f) => f.endsWith('.js') && !f.endsWith('.test.js') && f !== 'command-line.js').sort()) {
    if (/from '(\.\.?\/)+command-line\.js'/.test(await readFile(join(root, file), 'utf8'))) programs.push(file);
  }
  return programs;
}

const ENTRY_POINTS = await entryPoints();

test('the bench programs are found', () => {
  assert.ok(ENTRY_POINTS.includes('run.js') && ENTRY_POINTS.includes('scale/scale.js'), ENTRY_POINTS.join(', '));
});

const run = (entry: string, args: string[]) => execa(process.execPath, [fileURLToPath(new URL(entry, import.meta.url)), ...args], { reject: false, timeout: 60_000 });

for (const entry of ENTRY_POINTS) {
  test(`${entry}: --help prints the usage and exits 0; an unknown flag says so, prints the usage and exits 2`, async () => {
    const help = await run(entry, ['--help']);
    assert.equal(help.exitCode, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^usage: .*dist/bench/${entry.replace('.', '\\.')}`));
    const wrong = await run(entry, ['--no-such-flag']);
    assert.equal(wrong.exitCode, 2, wrong.stderr);
    const [first, second] = wrong.stderr.split('\n');
    assert.equal(first, "Unknown option '--no-such-flag'");
    assert.match(second!, /^usage: /);
    assert.equal(wrong.stdout, '');
  });
}

test('a usage shows each option with its default or placeholder, leaves internal ones out, and wraps', () => {
  const options = {
    inner: { type: 'boolean' },
    rounds: { type: 'string', default: '3' },
    plan: { type: 'string' },
    'agent-arg': { type: 'string', multiple: true },
    quiet: { type: 'boolean', default: false },
    baseline: { type: 'string' },
  } as const;
  const text = usageText({ command: 'node x.js', internal: ['inner'], required: ['plan'], values: { plan: 'FILE', 'agent-arg': '--flag=value' } }, options);
  assert.equal(text, 'usage: node x.js [--rounds 3] --plan FILE [--agent-arg=--flag=value]... [--quiet] [--baseline VALUE]');
  const wide = usageText({ command: 'node dist/bench/x.js' }, Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`option-${i}`, { type: 'string', default: '1000,10000' }])));
  const lines = wide.split('\n');
  assert.ok(lines.length > 1 && lines.every((l) => l.length <= 110), wide);
  assert.ok(lines.slice(1).every((l) => l.startsWith('  [--option-')));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderCrdFiles } from './crds.js';

const dir = join(process.cwd(), 'manifests', 'crds');

test('manifests/crds is exactly what the schema source generates (run `make crds`)', async () => {
  const expected = renderCrdFiles();
  const committed = (await readdir(dir)).sort();
  assert.deepEqual(committed, [...expected.keys()].sort());
  for (const [name, text] of expected) assert.equal(await readFile(join(dir, name), 'utf8'), text, `${name} is stale`);
});

test('EgressPolicy prints the columns kubectl shows in seed 002', () => {
  const crd = parse(renderCrdFiles().get('egress.sluice.dev_egresspolicies.yaml')!);
  const cols = crd.spec.versions[0].additionalPrinterColumns.map((c: { name: string }) => c.name.toUpperCase());
  assert.deepEqual(cols, ['GATEWAY', 'IPV4', 'IPV6', 'EGRESSTUNNEL']);
  assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
});

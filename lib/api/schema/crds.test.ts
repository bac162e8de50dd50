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

test('both policy kinds print the columns kubectl shows in seed 002, then Ready, Programmed and Age', () => {
  for (const file of ['egress.sluice.dev_egresspolicies.yaml', 'egress.sluice.dev_egressclusterpolicies.yaml']) {
    const crd = parse(renderCrdFiles().get(file)!);
    const columns = crd.spec.versions[0].additionalPrinterColumns as { name: string; type: string; jsonPath: string }[];
    assert.deepEqual(
      columns.map((c) => c.name.toUpperCase()),
      ['GATEWAY', 'IPV4', 'IPV6', 'EGRESSTUNNEL', 'READY', 'PROGRAMMED', 'AGE'],
    );
    // a CRD that lists columns gets no Age column by default: it is listed like the others
    assert.deepEqual(columns.at(-1), { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'time since the policy was created' });
    assert.equal(columns.find((c) => c.name === 'Programmed')?.jsonPath, '.status.conditions[?(@.type=="Programmed")].status');
    assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
  }
});

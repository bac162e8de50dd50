import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { toYaml } from './output.js';

const TRICKY = [
  'yes',
  'no',
  'on',
  'off',
  'Y',
  'n',
  'NO',
  'Off',
  'true',
  'null',
  '~',
  '1e3',
  '0x10',
  '0777',
  '010',
  '0o17',
  '0b101',
  '1_000',
  '+12',
  '.5',
  '1:20',
  '2001-12-14',
  '.inf',
  '<<',
  '=',
];

test('toYaml quotes every string a YAML 1.1 or 1.2 reader would take for another type', () => {
  const value = { labels: Object.fromEntries(TRICKY.map((t, i) => [`k${i}`, t])), keys: Object.fromEntries(TRICKY.map((t) => [t, 'v'])), list: TRICKY };
  const text = toYaml(value);
  for (const version of ['1.1', '1.2'] as const) assert.deepEqual(parse(text, { version }), value, `read back as YAML ${version}:\n${text}`);
  for (const t of TRICKY) assert.ok(text.includes(`"${t}"`), `${t} is quoted`);
});

test('toYaml leaves plain strings, numbers and booleans alone', () => {
  const text = toYaml({ name: 'default', ip: '10.6.1.64/28', mac: 'aa:bb:cc:dd:ee:ff', count: 3, b: true });
  assert.equal(text, 'name: default\nip: 10.6.1.64/28\nmac: aa:bb:cc:dd:ee:ff\ncount: 3\nb: true\n');
});

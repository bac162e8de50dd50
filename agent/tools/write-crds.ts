import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderCrdFiles } from '../../lib/api/schema/crds.js';

const dir = process.argv[2] ?? 'manifests/crds';
await mkdir(dir, { recursive: true });
const files = renderCrdFiles();
for (const name of await readdir(dir)) if (!files.has(name)) await rm(join(dir, name));
for (const [name, text] of files) await writeFile(join(dir, name), text);
process.stdout.write(`wrote ${files.size} files to ${dir}\n`);

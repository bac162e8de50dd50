/**
 * Records the git commit of this build in dist/build-info.json, for `sluice version` and the
 * sluice_build_info metric. $SLUICE_COMMIT wins (the image build has no .git); else git, when
 * this is a git checkout; else `unknown`, so a tree without .git still builds.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO_FILE } from '../version.js';

const COMMIT = /^[0-9a-f]{7,40}(-dirty)?$/;

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function commitOfThisTree(): string {
  const given = process.env.SLUICE_COMMIT?.trim();
  if (given) {
    if (!COMMIT.test(given)) throw new Error(`SLUICE_COMMIT="${given}" is not a git commit hash`);
    return given;
  }
  const head = git(['rev-parse', 'HEAD']);
  if (!head || !COMMIT.test(head)) return 'unknown';
  // Tracked files changed since the commit: the build is not exactly that commit.
  const dirty = git(['status', '--porcelain', '--untracked-files=no']);
  return dirty ? `${head}-dirty` : head;
}

// The output file may be given (tests); the build writes dist/build-info.json.
const out = process.argv[2] ?? fileURLToPath(BUILD_INFO_FILE);
const commit = commitOfThisTree();
writeFileSync(out, `${JSON.stringify({ commit })}\n`);
process.stdout.write(`${out}: commit ${commit}\n`);

/**
 * Which build this is: the version from package.json and the git commit that the build recorded
 * in dist/build-info.json (`make build` and the image build write it; agent/tools/write-build-info.ts).
 * A tree built without git, or with tsc alone, says `unknown`.
 */
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
}

/** This module is dist/agent/version.js: the tree's root is two levels up. */
const ROOT = new URL('../../', import.meta.url);
export const BUILD_INFO_FILE = new URL('dist/build-info.json', ROOT);

function readJson(url: URL): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(url, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function readBuildInfo(): BuildInfo {
  const version = readJson(new URL('package.json', ROOT))?.version;
  const commit = readJson(BUILD_INFO_FILE)?.commit;
  return {
    version: typeof version === 'string' ? version : 'unknown',
    commit: typeof commit === 'string' && /^[0-9a-f]{7,40}(-dirty)?$/.test(commit) ? commit : 'unknown',
  };
}

export const BUILD: BuildInfo = readBuildInfo();

/**
 * Requests from the lab's own process (root namespace) to the API server, which only listens inside the
 * control namespace: one curl per request, run there.
 */
import { run } from '../run.js';
import { ApiUnavailableError, type ApiTransport } from './api-client.js';

export function curlTransport(netns: string, baseUrl: string, timeoutSec = 10): ApiTransport {
  return async ({ method, path, body, contentType }) => {
    const argv = ['curl', '-sS', '-g', '--max-time', String(timeoutSec), '-X', method, '-H', 'Accept: application/json'];
    if (body !== undefined) argv.push('-H', `Content-Type: ${contentType ?? 'application/json'}`, '--data-binary', '@-');
    argv.push('-w', '\n%{http_code}', baseUrl + path);
    const r = await run(argv, {
      netns,
      allowFailure: true,
      timeoutMs: (timeoutSec + 5) * 1000,
      ...(body === undefined ? {} : { input: JSON.stringify(body) }),
    });
    if (r.exitCode !== 0) throw new ApiUnavailableError(`${method} ${path}: ${r.stderr.trim() || `curl exit ${r.exitCode}`}`);
    const cut = r.stdout.lastIndexOf('\n');
    const text = r.stdout.slice(0, cut);
    return { status: Number(r.stdout.slice(cut + 1)), body: parseBody(text, method, path) };
  };
}

function parseBody(text: string, method: string, path: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiUnavailableError(`${method} ${path}: not JSON: ${text.slice(0, 200)}`);
  }
}

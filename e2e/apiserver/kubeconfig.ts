/** A kubeconfig for the fake server: plain http, no credentials, insecure-skip-tls-verify for client-node. */
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export function kubeconfigYaml(serverUrl: string, name = 'sluice-fake'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: serverUrl, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

export async function writeKubeconfig(path: string, serverUrl: string): Promise<void> {
  await writeFile(path, kubeconfigYaml(serverUrl), { mode: 0o600 });
}

import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { EgressError, errorMessage } from '../errors.js';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface KubeConfigOptions {
  /** A kubeconfig file; otherwise $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  readonly path?: string;
  readonly context?: string;
}

/** Loads the kubeconfig the agent talks to the API server with; throws EGW_ERR_CONFIG when unusable. */
export function loadKubeConfig(options: KubeConfigOptions = {}): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (options.path) kc.loadFromFile(options.path);
    else kc.loadFromDefault();
    if (options.context) kc.setCurrentContext(options.context);
  } catch (err) {
    throw new EgressError('EGW_ERR_CONFIG', `kubeconfig${options.path ? ` ${options.path}` : ''}: ${errorMessage(err)}`, { cause: err });
  }
  if (!kc.getCurrentCluster()) {
    throw new EgressError('EGW_ERR_CONFIG', 'kubeconfig: no current cluster (set --kubeconfig or run in a pod)');
  }
  return kc;
}

/**
 * A kubeconfig for one server URL without credentials (tests, local API servers). client-node
 * refuses http:// unless the cluster entry skips TLS verification, so that is set for http.
 */
export function kubeConfigForServer(server: string, token?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sluice', server, skipTLSVerify: server.startsWith('http:') }],
    users: [{ name: 'sluice', ...(token ? { token } : {}) }],
    contexts: [{ name: 'sluice', cluster: 'sluice', user: 'sluice' }],
    currentContext: 'sluice',
  });
  return kc;
}

/** The namespace the agent runs in: $POD_NAMESPACE, the service account's, else `default`. */
export function agentNamespace(env: NodeJS.ProcessEnv = process.env): string {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const text = readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim();
    if (text) return text;
  } catch {
    // not in a pod
  }
  return 'default';
}

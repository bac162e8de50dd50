/**
 * The lab cluster's control plane as lab daemons in the control namespace: the fake API server, the node
 * lifecycle controller and the lab kubelet. Pure: specs only.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_HOST, lanHost } from '../addressing.js';
import type { DaemonSpec } from '../daemons.js';
import { API_SERVER_ROLE } from '../plugins.js';
import type { LabState } from '../state.js';

export const API_SERVER_PORT = 6443;
export const NODE_LIFECYCLE_ROLE = 'node-lifecycle';
export const KUBELET_ROLE = 'kubelet';
export const NODE_LIFECYCLE_READY = 'node lifecycle controller ready';
export const KUBELET_READY = 'lab kubelet ready';
/** What the fake API server logs when its fault hooks (SIGUSR1 / SIGUSR2) took effect. */
export const API_SERVER_DOWN_LINE = '"msg":"API server down"';
export const API_SERVER_UP_LINE = '"msg":"API server up"';

const script = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));

/** What nodes, agents and kubectl use: the control host's LAN address. */
export function lanApiServerUrl(): string {
  return `http://${lanHost(CONTROL_HOST).v4}:${API_SERVER_PORT}`;
}

/** What the control-plane daemons (and the lab's own curl) use inside the control namespace. */
export const LOCAL_API_SERVER_URL = `http://127.0.0.1:${API_SERVER_PORT}`;

export const kubeconfigPath = (s: LabState) => join(s.stateDir, 'kubeconfig');

/**
 * Listens on the wildcard address inside the control namespace, which holds only lo and the LAN port: that
 * is 198.18.0.3, 127.0.0.1 and, with IPv6, fd00:198:18::3 and ::1. `--state` keeps objects across a
 * process restart (stop-daemon / start-daemon apiserver).
 */
export function apiServerDaemon(s: LabState): DaemonSpec {
  const host = s.ipv6 ? '::' : '0.0.0.0';
  const url = `http://${s.ipv6 ? `[${host}]` : host}:${API_SERVER_PORT}`;
  return {
    role: API_SERVER_ROLE,
    netns: s.netns.control,
    argv: [process.execPath, script('../../apiserver/main.js'), `--host=${host}`, `--port=${API_SERVER_PORT}`, `--state=${join(s.stateDir, 'apiserver-state.json')}`],
    env: { APISERVER_LOG_LEVEL: 'info' },
    // main.js prints its URL as the only stdout line once it serves.
    readyLogLine: `${url}\n`,
    readyTimeoutMs: 20_000,
  };
}

export function nodeLifecycleDaemon(s: LabState): DaemonSpec {
  return {
    role: NODE_LIFECYCLE_ROLE,
    netns: s.netns.control,
    argv: [
      process.execPath,
      script('./node-lifecycle-main.js'),
      `--server=${LOCAL_API_SERVER_URL}`,
      `--grace-seconds=${s.nodeGraceSeconds}`,
      // Twice a second; a short grace period is checked more often.
      `--period-ms=${Math.round(Math.max(100, Math.min(500, (s.nodeGraceSeconds * 1000) / 6)))}`,
    ],
    readyLogLine: NODE_LIFECYCLE_READY,
    readyTimeoutMs: 15_000,
  };
}

export function kubeletDaemon(s: LabState): DaemonSpec {
  return {
    role: KUBELET_ROLE,
    netns: s.netns.control,
    argv: [process.execPath, script('./kubelet-main.js'), `--server=${LOCAL_API_SERVER_URL}`, `--lab-dir=${s.stateDir}`],
    readyLogLine: KUBELET_READY,
    readyTimeoutMs: 15_000,
    // It creates pod namespaces with `ip netns add`; those must be visible outside its mount namespace.
    netnsOnly: true,
  };
}

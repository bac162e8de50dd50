import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startApiServer } from '../../e2e/apiserver/server.js';
import { KubeClient } from './rest-client.js';
import { kubeConfigForServer } from './kubeconfig.js';
import { EventRecorder, eventName } from './events.js';

test('an Event about an object whose name is at the 253-character limit still gets a valid name', async () => {
  const server = await startApiServer({ logger: pino({ level: 'silent' }) });
  try {
    const recorder = new EventRecorder(new KubeClient(kubeConfigForServer(server.url), { timeoutMs: 2000 }));
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(long.length, 253);
    for (const name of ['web', long, `${long.slice(0, 234)}.x`]) {
      await recorder.record({ apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressPolicy', name, namespace: 'default' }, 'Normal', 'EIPAssigned', 'egress IP 198.18.0.105');
    }
    assert.equal(recorder.posted.get('EIPAssigned'), 3);
    assert.ok(eventName(long).length <= 253);
    assert.match(eventName('web'), /^web\.[0-9a-f]+$/);
  } finally {
    await server.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenAddress, parseStatusAddress } from './listen-address.js';

test('listen addresses: IPv4, IPv6 with or without brackets, and the empty host', () => {
  assert.deepEqual(parseListenAddress('metrics-address', '198.18.0.11:9465'), { host: '198.18.0.11', port: 9465 });
  assert.deepEqual(parseListenAddress('metrics-address', '[fd00::11]:9465'), { host: 'fd00::11', port: 9465 });
  assert.deepEqual(parseListenAddress('metrics-address', 'fd00::11:9465'), { host: 'fd00::11', port: 9465 });
  assert.deepEqual(parseListenAddress('metrics-address', ':9465'), { host: '0.0.0.0', port: 9465 });
  assert.throws(() => parseListenAddress('metrics-address', 'node-1:9465'), /EGW_ERR_CONFIG|not an IP address/);
  assert.throws(() => parseListenAddress('metrics-address', '10.0.0.1:99999'), /HOST:PORT/);
});

test('the status address must be loopback', () => {
  assert.deepEqual(parseStatusAddress('127.0.0.1:9466'), { host: '127.0.0.1', port: 9466 });
  assert.deepEqual(parseStatusAddress('[::1]:9466'), { host: '::1', port: 9466 });
  for (const bad of ['0.0.0.0:9466', ':9466', '198.18.0.11:9466', '[::]:9466']) assert.throws(() => parseStatusAddress(bad), /loopback/, bad);
});

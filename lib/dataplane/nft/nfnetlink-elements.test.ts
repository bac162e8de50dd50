import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeList, attributes, cString } from '../netlink/netlink-message.js';
import { batchAnswers, learnedElementsBatch } from './nfnetlink-elements.js';

/** The messages of a batch: type, flags, seq, and the attributes after the nfgenmsg header. */
function messages(batch: Buffer) {
  const out: { type: number; flags: number; seq: number; body: Buffer }[] = [];
  for (let at = 0; at < batch.length;) {
    const len = batch.readUInt32LE(at);
    out.push({ type: batch.readUInt16LE(at + 4), flags: batch.readUInt16LE(at + 6), seq: batch.readUInt32LE(at + 8), body: batch.subarray(at + 20, at + len) });
    at += (len + 3) & ~3;
  }
  return out;
}

test('a learned-elements batch: begin, one acknowledged NEWSETELEM per set with key, timeout, expiry and comment, end', () => {
  const { batch, acked } = learnedElementsBatch(
    'sluice',
    [
      { set: 'f_a_n0_4', family: 4, address: '198.18.1.2', timeoutSeconds: 35, comment: 'dns a.test A 198.18.1.2 ttl 30 to 10.244.1.5' },
      { set: 'f_a_n0_6', family: 6, address: '2001:db8::1', timeoutSeconds: 6 },
    ],
    7,
  );
  const m = messages(batch);
  assert.deepEqual(
    m.map((x) => [x.type, x.seq]),
    [
      [0x10, 7],
      [(10 << 8) | 12, 8],
      [(10 << 8) | 12, 9],
      [0x11, 10],
    ],
  );
  assert.deepEqual(acked, [8, 9]);
  assert.equal(batch.readUInt16BE(16 + 2), 10, 'the batch names the nf_tables subsystem');
  for (const x of m.slice(1, 3)) assert.equal(x.flags & 0x4, 0x4, 'acknowledged');
  const list = attributes(m[1]!.body);
  assert.equal(cString(list.get(1)), 'sluice');
  assert.equal(cString(list.get(2)), 'f_a_n0_4');
  const [[, elem]] = attributeList(list.get(3)!) as [[number, Buffer]];
  const e = attributes(elem);
  assert.deepEqual([...attributes(e.get(1)!).get(1)!], [198, 18, 1, 2], 'key in network order');
  assert.equal(e.get(4)!.readBigUInt64BE(0), 35_000n, 'timeout, ms');
  assert.equal(e.get(5)!.readBigUInt64BE(0), 35_000n, 'expiry, ms: renewed in place');
  const comment = 'dns a.test A 198.18.1.2 ttl 30 to 10.244.1.5';
  assert.deepEqual(e.get(6)!, Buffer.concat([Buffer.from([0, comment.length + 1]), Buffer.from(`${comment}\0`)]), 'comment as libnftnl writes it: type 0, length, NUL-terminated');
  const [[, elem6]] = attributeList(attributes(m[2]!.body).get(3)!) as [[number, Buffer]];
  assert.equal(attributes(attributes(elem6).get(1)!).get(1)!.toString('hex'), '20010db8000000000000000000000001');
  assert.equal(attributes(elem6).has(6), false, 'no comment, no user data');
});

test('values the renderer refuses never reach a batch', () => {
  for (const bad of [
    { set: 'x; flush ruleset', address: '198.18.1.2' },
    { set: 'f_a_n0_4', address: '198.18.1.2/24' },
    { set: 'f_a_n0_4', address: '198.18.1.2', comment: 'a"b' },
  ]) {
    assert.throws(() => learnedElementsBatch('sluice', [{ family: 4, timeoutSeconds: 5, ...bad }], 1), { code: 'EGW_ERR_NFT_VALUE' }, JSON.stringify(bad));
  }
});

test("the kernel's answers: done when every message is acknowledged, the errno of the first refused", () => {
  const ack = (seq: number, errno: number) => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt32LE(seq, 8);
    b.writeInt32LE(-errno, 16);
    return b;
  };
  const waiting = new Set([8, 9]);
  assert.equal(batchAnswers(ack(8, 0), waiting), undefined);
  assert.deepEqual([...waiting], [9]);
  assert.equal(batchAnswers(Buffer.concat([ack(9, 2)]), waiting), 2);
});

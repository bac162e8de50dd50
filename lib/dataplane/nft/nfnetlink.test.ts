import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EgressError } from '../../errors.js';
import { NFPROTO_INET } from './nfnetlink.js';
import { parseRuleDump, ruleDumpRequest } from './nfnetlink-rules.js';
import { parseTableReply } from './nfnetlink-table.js';

const NESTED = 0x8000;

function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}
const str = (s: string) => Buffer.from(`${s}\0`);
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

function message(type: number, seq: number, body: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(20 + body.length, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt16LE(0x2, 6); // NLM_F_MULTI
  head.writeUInt32LE(seq, 8);
  head.writeUInt8(NFPROTO_INET, 16);
  return Buffer.concat([head, body]);
}

function ruleMessage(seq: number, rule: { chain: string; handle: number; comment?: string; counter?: [number, number] }): Buffer {
  const exprs = [attr(1 | NESTED, Buffer.concat([attr(1, str('immediate'))]))];
  if (rule.counter) {
    const data = Buffer.concat([attr(1, u64(rule.counter[1])), attr(2, u64(rule.counter[0]))]);
    exprs.push(attr(1 | NESTED, Buffer.concat([attr(1, str('counter')), attr(2 | NESTED, data)])));
  }
  const parts = [attr(1, str('sluice')), attr(2, str(rule.chain)), attr(3, u64(rule.handle)), attr(4 | NESTED, Buffer.concat(exprs))];
  if (rule.comment !== undefined) {
    const value = str(rule.comment);
    parts.push(attr(7, Buffer.concat([Buffer.from([0, value.length]), value])));
  }
  return message((10 << 8) | 6, seq, Buffer.concat(parts));
}

test('ruleDumpRequest asks nf_tables for a dump of one table', () => {
  const req = ruleDumpRequest(NFPROTO_INET, 'sluice', 7);
  assert.equal(req.length, 32);
  assert.equal(req.readUInt32LE(0), 32);
  assert.equal(req.readUInt16LE(4), 0x0a07); // NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_GETRULE
  assert.equal(req.readUInt16LE(6), 0x301); // NLM_F_REQUEST | NLM_F_DUMP
  assert.equal(req.readUInt32LE(8), 7);
  assert.equal(req.readUInt8(16), NFPROTO_INET);
  assert.equal(req.readUInt16LE(20), 11); // attr header + "sluice\0"
  assert.equal(req.readUInt16LE(22), 1); // NFTA_RULE_TABLE
  assert.equal(req.toString('utf8', 24, 30), 'sluice');
});

test('parseRuleDump reads chain, handle, comment and counter, and stops at NLMSG_DONE', () => {
  const datagram = Buffer.concat([
    ruleMessage(9, { chain: 'egress_snat', handle: 26, comment: 'snat default/test', counter: [3, 180] }),
    ruleMessage(9, { chain: 'egress_mark', handle: 13 }),
    ruleMessage(8, { chain: 'stale answer', handle: 1 }),
  ]);
  assert.deepEqual(parseRuleDump(datagram, 9), {
    done: false,
    rules: [
      { table: 'sluice', chain: 'egress_snat', handle: 26, comment: 'snat default/test', counter: { packets: 3, bytes: 180 } },
      { table: 'sluice', chain: 'egress_mark', handle: 13 },
    ],
  });
  const done = Buffer.alloc(20);
  done.writeUInt32LE(20, 0);
  done.writeUInt16LE(3, 4);
  done.writeUInt32LE(9, 8);
  assert.deepEqual(parseRuleDump(done, 9), { rules: [], done: true });
});

test('parseRuleDump turns NLMSG_ERROR and truncation into EGW_ERR_NFT', () => {
  const error = Buffer.alloc(36);
  error.writeUInt32LE(36, 0);
  error.writeUInt16LE(2, 4);
  error.writeUInt32LE(9, 8);
  error.writeInt32LE(-2, 16); // ENOENT
  assert.throws(
    () => parseRuleDump(error, 9),
    (err: unknown) => err instanceof EgressError && /errno 2/.test(err.message),
  );
  const truncated = ruleMessage(9, { chain: 'c', handle: 1 }).subarray(0, 30);
  assert.throws(() => parseRuleDump(truncated, 9), EgressError);
});

test('parseTableReply reads the table comment, and ENOENT as no table', () => {
  const table = (comment?: string) => {
    const parts = [attr(1, str('sluice'))];
    if (comment !== undefined) {
      const value = str(comment);
      parts.push(attr(6, Buffer.concat([Buffer.from([0, value.length]), value])));
    }
    return message((10 << 8) | 0, 5, Buffer.concat(parts));
  };
  const ack = (errno: number) => {
    const b = Buffer.alloc(36);
    b.writeUInt32LE(36, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt32LE(5, 8);
    b.writeInt32LE(-errno, 16);
    return b;
  };
  assert.deepEqual(parseTableReply(Buffer.concat([table('sluice-structure-v1 sha256:ab'), ack(0)]), 5), { done: true, comment: 'sluice-structure-v1 sha256:ab' });
  assert.deepEqual(parseTableReply(table(), 5), { done: false, comment: '' });
  assert.deepEqual(parseTableReply(ack(2), 5), { done: true, comment: null });
  assert.throws(() => parseTableReply(ack(1), 5), EgressError);
});

/** The payload of a UDP sequence datagram: `SEQ:` and the sequence number in ten digits. */
export const SEQ_PREFIX = 'SEQ:';
export const SEQ_DIGITS = 10;

/** The sequence number in a datagram's payload, or undefined when it is not one of ours. */
export function parseSeqPayload(payload: Buffer): number | undefined {
  const text = payload.toString('latin1');
  if (text.length !== SEQ_PREFIX.length + SEQ_DIGITS || !text.startsWith(SEQ_PREFIX)) return undefined;
  const digits = text.slice(SEQ_PREFIX.length);
  return /^\d+$/.test(digits) ? Number(digits) : undefined;
}

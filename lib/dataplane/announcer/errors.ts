/**
 * Coded errors of the ARP/NDP announcer. Kept here until the lead merges them into lib/errors.ts;
 * a retired code is never reused.
 */
export const ANNOUNCER_ERROR_CODES = {
  EGW_ERR_ANNOUNCE_NATIVE: 'the packet-socket addon (native/) is not built or failed to load',
  EGW_ERR_ANNOUNCE_SOCKET: 'an AF_PACKET socket could not be opened or bound',
  EGW_ERR_ANNOUNCE_SEND: 'a gratuitous ARP or unsolicited NA frame could not be sent',
  EGW_ERR_ANNOUNCE_LINK: 'an interface could not be read from /sys/class/net',
  EGW_ERR_ANNOUNCE_INPUT: 'an announced IP or interface name is not acceptable',
  EGW_ERR_ANNOUNCE_CONFIG: 'an announcer option is out of range',
  EGW_ERR_ANNOUNCE_CLOSED: 'the announcer was used after close()',
} as const;

export type AnnouncerErrorCode = keyof typeof ANNOUNCER_ERROR_CODES;

export class DataplaneError extends Error {
  readonly code: AnnouncerErrorCode;
  constructor(code: AnnouncerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'DataplaneError';
  }
}

import { EgressError, type ErrorCode } from '../../errors.js';

/** The announcer's codes (all listed in lib/errors.ts and docs/errors.md). */
export type AnnouncerErrorCode = Extract<ErrorCode, `EGW_ERR_ANNOUNCE_${string}`>;

export class DataplaneError extends EgressError {
  declare readonly code: AnnouncerErrorCode;
  constructor(code: AnnouncerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DataplaneError';
  }
}

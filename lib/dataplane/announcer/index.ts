export { Announcer, type AnnounceResult, type AnnouncementStatus, type AnnouncerLike } from './announcer.js';
export type { AnnouncerOptions, AttemptEvent, AttemptOutcome } from './announcer-options.js';
export { DataplaneError, type AnnouncerErrorCode } from './errors.js';
export type { SkipReason, LinkInfo } from './link-info.js';
export type { FrameSocket, OpenFrameSocket } from './packet-socket.js';

import { ManagerError } from '@cocos-manager/core';

/**
 * Why a guest's frame or connection was refused:
 * - `oversized`: a header announces more than the channel's payload limit (the connection is closed: its framing is lost);
 * - `malformed`: the payload is no valid message, or a field is over its bound (the frame is dropped, the connection kept);
 * - `flood`: the connection sent faster than its rate limit, or does not read its acknowledgements (the connection is closed).
 */
export type RejectReason = 'oversized' | 'malformed' | 'flood';

export const REJECT_REASONS: readonly RejectReason[] = ['oversized', 'malformed', 'flood'];

/** A frame (or a connection) a guest sent that the agent channel refuses: GUEST_FRAME_REJECTED, `fields.reason` says why. */
export class FrameRejected extends ManagerError {
  constructor(
    readonly rejectReason: RejectReason,
    message: string,
    fields: Readonly<Record<string, string | number>> = {},
  ) {
    super('GUEST_FRAME_REJECTED', message, { fields: { reason: rejectReason, ...fields } });
    this.name = 'FrameRejected';
  }

  /** Whether the connection can go on after it (only a bad payload in good framing). */
  get fatal(): boolean {
    return this.rejectReason !== 'malformed';
  }
}

import { FrameRejected } from './frame-rejected.js';

/** `u32 LE message id | u32 LE payload length`. */
export const FRAME_HEADER_BYTES = 8;
/** The largest payload a frame may carry (upstream's maxMessageSize, 1 MiB). */
export const MAX_FRAME_PAYLOAD = 1 << 20;
/** An acknowledgement: the frame's id, `u32 LE`. */
export const ACK_BYTES = 4;

/** One frame as the agent sent it: its id (echoed back as the acknowledgement) and its payload. */
export interface Frame {
  readonly id: number;
  readonly payload: Buffer;
}

/** A frame as the agent writes it (also for tests and the dev guest). */
export function encodeFrame(id: number, payload: Uint8Array): Buffer {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new RangeError(`frame id ${id} is not a u32`);
  if (payload.length > MAX_FRAME_PAYLOAD) throw new RangeError(`a frame payload of ${payload.length} bytes is over ${MAX_FRAME_PAYLOAD}`);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32LE(id, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** The receiver's acknowledgement of frame `id`. */
export function encodeAck(id: number): Buffer {
  const ack = Buffer.alloc(ACK_BYTES);
  ack.writeUInt32LE(id, 0);
  return ack;
}

/** What one read gave: the frames it completed and, if the stream went wrong after them, why. */
export interface DecodeResult {
  readonly frames: Frame[];
  /** Set when a header announced too large a payload: the frames before it stand, the stream's framing is lost. */
  readonly rejected: FrameRejected | null;
}

/**
 * A streaming decoder of one connection's bytes: frames split over reads or
 * coalesced into one come out whole. Bounded: a header announcing more than
 * `maxPayload` is refused as soon as its 8 bytes are in (nothing of that
 * payload is read or kept), and it holds at most one frame — its 8-byte
 * header and one payload buffer of the announced size, filled in place
 * however small the reads (no list of chunks a guest could grow by writing
 * one byte at a time). After a refusal the stream has lost its framing: the
 * caller closes the connection, and further bytes are refused.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  /** The frame being received, once its header is in. */
  private pending: { id: number; payload: Buffer; filled: number } | null = null;
  private failed: FrameRejected | null = null;

  constructor(readonly maxPayload: number = MAX_FRAME_PAYLOAD) {
    if (!Number.isInteger(maxPayload) || maxPayload < 0 || maxPayload > MAX_FRAME_PAYLOAD)
      throw new RangeError(`maxPayload ${maxPayload} is not within 0-${MAX_FRAME_PAYLOAD}`);
  }

  /** Bytes received of the unfinished frame. */
  get buffered(): number {
    return this.pending ? FRAME_HEADER_BYTES + this.pending.filled : this.headerFilled;
  }

  /** Feeds one read. */
  push(chunk: Buffer): DecodeResult {
    if (this.failed) return { frames: [], rejected: this.failed };
    const frames: Frame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.pending === null) {
        // The 8 header bytes (they may arrive one by one).
        const n = chunk.copy(this.header, this.headerFilled, offset, offset + FRAME_HEADER_BYTES - this.headerFilled);
        this.headerFilled += n;
        offset += n;
        if (this.headerFilled < FRAME_HEADER_BYTES) break;
        this.headerFilled = 0;
        const length = this.header.readUInt32LE(4);
        if (length > this.maxPayload) {
          this.failed = new FrameRejected('oversized', `a frame announces ${length} payload bytes; at most ${this.maxPayload} are allowed`, { length });
          return { frames, rejected: this.failed };
        }
        this.pending = { id: this.header.readUInt32LE(0), payload: Buffer.allocUnsafe(length), filled: 0 };
      }
      const pending = this.pending;
      const n = chunk.copy(pending.payload, pending.filled, offset, offset + pending.payload.length - pending.filled);
      pending.filled += n;
      offset += n;
      if (pending.filled < pending.payload.length) break;
      // Every byte of the payload was written above before it is handed out.
      frames.push({ id: pending.id, payload: pending.payload });
      this.pending = null;
    }
    return { frames, rejected: null };
  }
}

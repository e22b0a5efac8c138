import { describe, expect, it } from 'vitest';
import { encodeAck, encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, FrameRejected, MAX_FRAME_PAYLOAD, type Frame } from '../src/index.js';

const header = (id: number, length: number) => {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  h.writeUInt32LE(id, 0);
  h.writeUInt32LE(length, 4);
  return h;
};

/** Every frame `decoder` yields for `bytes` fed in pieces of the given sizes, checking what it holds in between. */
function feed(decoder: FrameDecoder, bytes: Buffer, sizes: (i: number) => number) {
  const out: Frame[] = [];
  let mostHeld = 0;
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes(i));
    const { frames, rejected } = decoder.push(bytes.subarray(offset, offset + size));
    if (rejected) throw rejected;
    out.push(...frames);
    offset += size;
    mostHeld = Math.max(mostHeld, decoder.buffered);
  }
  // Never more than the frame being received.
  expect(mostHeld).toBeLessThan(FRAME_HEADER_BYTES + 20_000);
  expect(decoder.buffered).toBe(0);
  return out;
}

const framesOf = (decoder: FrameDecoder, bytes: Buffer) => {
  const { frames, rejected } = decoder.push(bytes);
  if (rejected) throw rejected;
  return frames;
};

describe('frames: u32 LE id | u32 LE length | payload', () => {
  it('encodes the header little-endian and the ack as the id', () => {
    expect([...encodeFrame(0x01020304, Buffer.from('ab'))]).toEqual([4, 3, 2, 1, 2, 0, 0, 0, 0x61, 0x62]);
    expect([...encodeAck(0x01020304)]).toEqual([4, 3, 2, 1]);
    expect(() => encodeFrame(1, Buffer.alloc(MAX_FRAME_PAYLOAD + 1))).toThrow(RangeError);
  });

  it('decodes frames coalesced into one read, including an empty payload', () => {
    const bytes = Buffer.concat([encodeFrame(1, Buffer.from('one')), encodeFrame(2, Buffer.alloc(0)), encodeFrame(3, Buffer.from('three'))]);
    const frames = framesOf(new FrameDecoder(), bytes);
    expect(frames.map((f) => [f.id, f.payload.toString()])).toEqual([
      [1, 'one'],
      [2, ''],
      [3, 'three'],
    ]);
  });

  it('decodes the same frames whatever the reads split them into (byte by byte, odd sizes, across headers), holding one frame at most', () => {
    const payloads = [Buffer.from('x'), Buffer.alloc(20_000, 7), Buffer.alloc(0), Buffer.from('last')];
    const bytes = Buffer.concat(payloads.map((p, i) => encodeFrame(i + 10, p)));
    for (const sizes of [() => 1, (i: number) => (i * 7919) % 13, () => 4096, () => 9, () => bytes.length]) {
      const frames = feed(new FrameDecoder(), bytes, sizes);
      expect(frames.map((f) => f.id)).toEqual([10, 11, 12, 13]);
      expect(frames.map((f) => f.payload)).toEqual(payloads);
    }
  });

  it('accepts a payload of exactly the limit', () => {
    const frames = framesOf(new FrameDecoder(), encodeFrame(5, Buffer.alloc(MAX_FRAME_PAYLOAD, 1)));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.payload.length).toBe(MAX_FRAME_PAYLOAD);
  });

  it('refuses a length over the limit as soon as the header is in, keeping none of it; the frames before it stand, nothing after', () => {
    const decoder = new FrameDecoder();
    expect(framesOf(decoder, header(1, 3).subarray(0, 5))).toEqual([]);
    const { frames, rejected } = decoder.push(
      Buffer.concat([header(1, 3).subarray(5), Buffer.from('abc'), header(2, MAX_FRAME_PAYLOAD + 1), Buffer.alloc(100)]),
    );
    expect(frames.map((f) => [f.id, f.payload.toString()])).toEqual([[1, 'abc']]);
    expect(rejected).toBeInstanceOf(FrameRejected);
    expect(rejected).toMatchObject({
      kind: 'GUEST_FRAME_REJECTED',
      rejectReason: 'oversized',
      fatal: true,
      fields: { reason: 'oversized', length: MAX_FRAME_PAYLOAD + 1 },
    });
    expect(decoder.buffered).toBe(0);
    expect(decoder.push(encodeFrame(3, Buffer.from('x')))).toEqual({ frames: [], rejected });
  });

  it('a smaller limit is a limit too (0xffffffff announced: refused at once)', () => {
    const decoder = new FrameDecoder(16);
    expect(framesOf(decoder, encodeFrame(1, Buffer.alloc(16)))).toHaveLength(1);
    expect(decoder.push(header(2, 0xffff_ffff)).rejected?.message).toBe('a frame announces 4294967295 payload bytes; at most 16 are allowed');
    expect(() => new FrameDecoder(MAX_FRAME_PAYLOAD + 1)).toThrow(RangeError);
  });
});

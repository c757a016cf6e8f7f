/**
 * The relay frame between forwarder and receiver: `<forwarder arrival stamp, ns> <raw exchange message>`,
 * one WebSocket text frame per exchange message. The raw message is relayed byte for byte (never
 * re-encoded), and the frame is the capture format's line, so a relay stream can be recorded and
 * replayed as it is.
 */

/** Builds a relay frame. */
export function encodeRelayFrame(stampNs: bigint, raw: string): string {
  return `${stampNs} ${raw}`;
}

/**
 * Builds a relay frame from the message's raw bytes (the forwarder's hot path): one buffer, the
 * exchange's bytes copied once, no decoding to a string and back.
 */
export function encodeRelayFrameBytes(stampNs: bigint, raw: Buffer): Buffer {
  const stamp = stampNs.toString();
  const frame = Buffer.allocUnsafe(stamp.length + 1 + raw.length);
  frame.write(stamp, 0, 'latin1');
  frame[stamp.length] = 0x20;
  raw.copy(frame, stamp.length + 1);
  return frame;
}

/** Splits a relay frame or capture line; undefined when it has no leading integer stamp. */
export function decodeRelayFrame(frame: string): { stampNs: bigint; raw: string } | undefined {
  const space = frame.indexOf(' ');
  if (space <= 0 || space > 20) return undefined;
  for (let i = 0; i < space; i += 1) {
    const c = frame.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return { stampNs: BigInt(frame.slice(0, space)), raw: frame.slice(space + 1) };
}

/** The header the forwarder presents its shared token in. */
export const RELAY_TOKEN_HEADER = 'x-feedpath-token';
/** The path a receiver accepts relays on. */
export const RELAY_PATH = '/relay';

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

/** RFC 6455 §5.2: FIN + text opcode. */
const FIN_TEXT = 0x81;
/** The MASK bit of the second header byte (every client frame must carry it). */
const MASK_BIT = 0x80;

/**
 * The relay frame as a complete client-to-server WebSocket text frame (RFC 6455 §5.2), ready to be
 * written to the relay socket as it is: the forwarder's hot path builds it once per exchange message
 * — the exchange's bytes copied once, no decoding, no JSON — and hands the same bytes to every
 * receiver, with no per-receiver framing. The masking key is all zeros, so the payload stays as it
 * is: the mask protects HTTP intermediaries a browser may cross (RFC 6455 §10.3), and the relay is
 * a direct link between our own hosts; `ws` skips unmasking an all-zero key.
 */
export function encodeRelayWsFrame(stampNs: bigint, raw: Buffer): Buffer {
  const stamp = stampNs.toString();
  const payload = stamp.length + 1 + raw.length;
  const lengthBytes = payload < 126 ? 0 : payload < 65_536 ? 2 : 8;
  const header = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(header + payload);
  frame[0] = FIN_TEXT;
  if (lengthBytes === 0) {
    frame[1] = MASK_BIT | payload;
  } else if (lengthBytes === 2) {
    frame[1] = MASK_BIT | 126;
    frame.writeUInt16BE(payload, 2);
  } else {
    frame[1] = MASK_BIT | 127;
    frame.writeBigUInt64BE(BigInt(payload), 2);
  }
  frame.writeUInt32BE(0, 2 + lengthBytes);
  frame.write(stamp, header, 'latin1');
  frame[header + stamp.length] = 0x20;
  raw.copy(frame, header + stamp.length + 1);
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

/**
 * Which exchange connection the frames that follow came from. The forwarder's upstream connection
 * changes rarely (a reconnect, a 24 h rollover), so it is not repeated in every frame: the forwarder
 * announces its upstream connection's ordinal on the relay whenever it changes, before the first
 * frame from that connection, and first thing on every new relay connection; the receiver gives
 * each backbone frame the ordinal last announced on the relay. Steady state costs the forwarder's
 * hot path one integer comparison per message, and the relay carries the exchange's bytes as before.
 *
 * The announcement is an ordinary relay frame whose message is `{"feedpath_connection":<ordinal>}`,
 * so the relay stream stays a capture: a capture reader skips the line as not a stream message.
 */
export const CONNECTION_ANNOUNCEMENT_PREFIX = '{"feedpath_connection":';

/** The announcement's message for upstream connection `ordinal`. */
export function connectionAnnouncement(ordinal: number): string {
  return `${CONNECTION_ANNOUNCEMENT_PREFIX}${ordinal}}`;
}

/** The announcement of upstream connection `ordinal`, as a complete relay WebSocket frame. */
export function encodeConnectionAnnouncement(stampNs: bigint, ordinal: number): Buffer {
  return encodeRelayWsFrame(stampNs, Buffer.from(connectionAnnouncement(ordinal)));
}

/**
 * The ordinal a relay frame's message announces: undefined when the message is not an announcement
 * (an exchange message), NaN when it is one but its ordinal cannot be read.
 */
export function decodeConnectionAnnouncement(raw: string): number | undefined {
  if (!raw.startsWith(CONNECTION_ANNOUNCEMENT_PREFIX)) return undefined;
  const digits = raw.slice(CONNECTION_ANNOUNCEMENT_PREFIX.length, -1);
  const ordinal = /^[1-9]\d{0,9}$/.test(digits) && raw.endsWith('}') ? Number(digits) : NaN;
  return ordinal;
}

/** The header the forwarder presents its shared token in. */
export const RELAY_TOKEN_HEADER = 'x-feedpath-token';
/** The path a receiver accepts relays on. */
export const RELAY_PATH = '/relay';

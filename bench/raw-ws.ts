/**
 * Just enough WebSocket (RFC 6455) for load generators that must never be the bottleneck: the
 * server side of the opening handshake, unmasked server text frames built in bulk, and a counter of
 * the client's frames that skips payloads without copying them. An agent under test measured with
 * a `ws` peer would be measured against `ws`' own per-message cost; these peers cost a fraction of it.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Answers an upgrade request with 101 (no extension, no subprotocol); false if it is not one. */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex): boolean {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    return false;
  }
  const accept = createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  return true;
}

/** The header of an unmasked, final text frame of `length` bytes, as a latin1 string. */
function textFrameHeader(length: number): string {
  if (length < 126) return String.fromCharCode(0x81, length);
  if (length < 65_536) return String.fromCharCode(0x81, 126, length >> 8, length & 0xff);
  throw new RangeError('bench frames are below 64 kB');
}

/** Server-to-client text frames for ASCII `messages`, concatenated into one buffer. */
export function textFrames(messages: readonly string[]): Buffer {
  let text = '';
  for (const message of messages) text += textFrameHeader(message.length) + message;
  return Buffer.from(text, 'latin1');
}

/**
 * Counts the data frames a client sends (masked, as RFC 6455 requires of clients) and skips their
 * payloads. A frame is counted when its header is complete.
 */
export class ClientFrameCounter {
  /** Text and binary frames seen. */
  frames = 0;
  /** Control frames seen (ping, pong, close). */
  control = 0;
  /** Payload bytes still to skip in the current frame. */
  private skip = 0;
  /** An incomplete header carried over from the previous chunk. */
  private carry: Buffer | undefined;

  /** Feeds one chunk; returns how many data frames it completed. */
  push(chunk: Buffer): number {
    let data = chunk;
    if (this.carry !== undefined) {
      data = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    const before = this.frames;
    let at = 0;
    const end = data.length;
    while (at < end) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, end - at);
        this.skip -= step;
        at += step;
        continue;
      }
      if (end - at < 2) break;
      const opcode = (data[at] as number) & 0x0f;
      const second = data[at + 1] as number;
      const masked = (second & 0x80) !== 0;
      const len7 = second & 0x7f;
      const headerBytes = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (end - at < headerBytes) break;
      let length = len7;
      if (len7 === 126) length = data.readUInt16BE(at + 2);
      else if (len7 === 127) length = Number(data.readBigUInt64BE(at + 2));
      if (opcode >= 8) this.control += 1;
      else if (opcode !== 0) this.frames += 1;
      at += headerBytes;
      this.skip = length;
    }
    if (at < end) this.carry = Buffer.from(data.subarray(at));
    return this.frames - before;
  }
}

/** The `frames` worker: the load generator of the maximum rates and bursts, frames built in bulk. */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { wallClock } from '../../lib/clock';
import { acceptUpgrade, textFrames } from '../raw-ws';
import { benchTrade, delay, exitAfter, print, startSignal, type WorkerArgs } from './common';

/** One phase of a {@link frames} run. */
export interface FramePhase {
  count: number;
  /** Messages per second, in 1 ms ticks; 0: as fast as the sockets take them. */
  rate?: number;
  /** All `count` messages in one write, with one E (a sweep: many trades in one instant). */
  burst?: boolean;
  /** Wait this long before the phase starts. */
  pauseMs?: number;
}

/** Every socket has less than this unsent: the generator's backpressure bound. */
const FRAMES_HIGH_WATER = 1 << 20;
/** Messages built per write when sending as fast as possible. */
const FRAMES_BATCH = 256;

/** A µs epoch time of today's width (16 digits), recognisable in a built burst. */
const E_STAND_IN = 1_111_111_111_111_111;
const E_STAND_IN_TEXT = String(E_STAND_IN);

/** Where the stand-in E (and T) sit in a built burst. */
function standInOffsets(buffer: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = buffer.indexOf(E_STAND_IN_TEXT); at >= 0; at = buffer.indexOf(E_STAND_IN_TEXT, at + 1))
    offsets.push(at);
  return offsets;
}

/** Overwrites the stand-in at each offset with `digits` (same width), byte by byte: no call per offset. */
function patchDigits(buffer: Buffer, offsets: readonly number[], digits: string): void {
  if (digits.length !== E_STAND_IN_TEXT.length) throw new Error(`E ${digits} is not 16 digits wide`);
  const codes = Array.from(digits, (c) => c.charCodeAt(0));
  for (const at of offsets) for (let k = 0; k < codes.length; k += 1) buffer[at + k] = codes[k] as number;
}

/**
 * A load generator that cannot be the bottleneck: a WebSocket server (any path) whose trades
 * ({@link benchTrade}, ids from 1, E = send time in µs) are built as ready frames in bulk and
 * written straight to the TCP sockets, one write per batch. Once `clients` are connected (and on
 * {@link START_SIGNAL} with `waitSignal`) it plays `phases` in order; then prints
 * `{done, sent, burstSendUs}` (per burst, E → the write's return) and lingers `lingerMs`.
 */
export async function frames(args: WorkerArgs): Promise<void> {
  exitAfter(Number(args.maxLifeMs ?? 300_000));
  const phases = args.phases as FramePhase[];
  const clients = Number(args.clients ?? 1);
  const clock = wallClock();
  const sockets: Socket[] = [];
  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  const connected = new Promise<void>((resolve) => {
    server.on('upgrade', (req, socket: Socket) => {
      socket.on('error', () => undefined);
      if (!acceptUpgrade(req, socket)) return;
      socket.setNoDelay(true);
      socket.on('data', () => undefined);
      sockets.push(socket);
      print({ connected: sockets.length });
      if (sockets.length === clients) resolve();
    });
  });
  const started = startSignal(args.waitSignal === true);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  print({ ready: true, port: typeof address === 'object' && address !== null ? address.port : 0 });
  await connected;
  await started;

  let sent = 0;
  /** Per burst, from taking E to the write's return: what the generator adds to the latency. */
  const burstSendUs: number[] = [];
  // Compiled before the first burst, so that stamping E is not followed by a cold loop.
  const scratch = textFrames([benchTrade(1, E_STAND_IN)]);
  for (let i = 0; i < 2_000; i += 1) patchDigits(scratch, standInOffsets(scratch), E_STAND_IN_TEXT);
  const build = (messages: number, eventTimeUs: number): Buffer => {
    const batch: string[] = [];
    for (let i = 0; i < messages; i += 1) batch.push(benchTrade(sent + i + 1, eventTimeUs));
    return textFrames(batch);
  };
  const writeAll = (buffer: Buffer, messages: number): void => {
    for (const socket of sockets) socket.write(buffer);
    sent += messages;
  };
  const full = (): Socket | undefined => sockets.find((s) => s.writableLength >= FRAMES_HIGH_WATER);
  for (const phase of phases) {
    if (phase.pauseMs !== undefined) await delay(phase.pauseMs);
    const end = sent + phase.count;
    if (phase.burst === true) {
      // Built first with a stand-in E of the same width, which is then overwritten with the send
      // instant: the time it takes to build 735 frames is not counted as the receiver's latency.
      const buffer = build(phase.count, E_STAND_IN);
      const offsets = standInOffsets(buffer);
      const eventTimeUs = clock.nowUs();
      patchDigits(buffer, offsets, String(eventTimeUs));
      writeAll(buffer, phase.count);
      burstSendUs.push(clock.nowUs() - eventTimeUs);
    } else if ((phase.rate ?? 0) <= 0) {
      while (sent < end) {
        const blocked = full();
        if (blocked !== undefined) {
          await new Promise((resolve) => blocked.once('drain', resolve));
          continue;
        }
        const messages = Math.min(FRAMES_BATCH, end - sent);
        writeAll(build(messages, clock.nowUs()), messages);
      }
    } else {
      const rate = phase.rate as number;
      const from = sent;
      const phaseStart = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const elapsedS = Number(process.hrtime.bigint() - phaseStart) / 1e9;
          const due = Math.min(end, from + Math.floor(elapsedS * rate) + 1);
          if (due > sent) writeAll(build(due - sent, clock.nowUs()), due - sent);
          if (sent >= end) {
            clearInterval(tick);
            resolve();
          }
        }, 1);
      });
    }
  }
  while (sockets.some((s) => s.writableLength > 0 && !s.destroyed)) await delay(20);
  print({ done: true, sent, burstSendUs });
  await delay(Number(args.lingerMs ?? 2_000));
  process.exit(0);
}

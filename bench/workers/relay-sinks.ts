/** The `relaySinks` worker: counting relay receivers for the forwarder's maximum rate and its stalled receiver. */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { RELAY_PATH, RELAY_TOKEN_HEADER } from '../../lib/wire';
import { ClientFrameCounter, acceptUpgrade } from '../raw-ws';
import { exitAfter, print, type WorkerArgs } from './common';

/** What {@link relaySinks} reports per sink (all its connections together). */
export interface RelaySinkResult {
  port: number;
  stalled: boolean;
  connections: number;
  frames: number;
  /** Data frames per second from frame `warmup` to the last one; null if it never got that far. */
  msgsPerS: number | null;
}

/**
 * `sinks` relay receivers on ports of their own: each accepts the forwarder on RELAY_PATH with the
 * `token`, then counts its frames without decoding them. Sinks listed in `stall` accept and never
 * read again (a receiver that hangs). Prints `{results}` once every other sink has counted `expect`
 * frames, or after `timeoutMs`.
 */
export async function relaySinks(args: WorkerArgs): Promise<void> {
  exitAfter(Number(args.maxLifeMs ?? 300_000));
  const n = Number(args.sinks ?? 1);
  const stall = new Set((args.stall as number[] | undefined) ?? []);
  const expect = Number(args.expect);
  const warmup = Number(args.warmup ?? 0);
  const token = String(args.token);
  interface SinkState {
    server: Server;
    port: number;
    connections: number;
    counter: ClientFrameCounter;
    warmNs: bigint | undefined;
    warmFrames: number;
    lastNs: bigint;
  }
  const states: SinkState[] = [];
  let reported = false;
  const report = (): void => {
    if (reported) return;
    reported = true;
    const results: RelaySinkResult[] = states.map((s, i) => ({
      port: s.port,
      stalled: stall.has(i),
      connections: s.connections,
      frames: s.counter.frames,
      msgsPerS:
        s.warmNs === undefined || s.lastNs <= s.warmNs
          ? null
          : ((s.counter.frames - s.warmFrames) * 1e9) / Number(s.lastNs - s.warmNs),
    }));
    print({ results }, () => process.exit(0));
  };
  const check = (): void => {
    if (states.every((s, i) => stall.has(i) || s.counter.frames >= expect)) report();
  };
  for (let i = 0; i < n; i += 1) {
    const server = createServer((_req, res) => res.writeHead(426).end());
    const state: SinkState = {
      server,
      port: 0,
      connections: 0,
      counter: new ClientFrameCounter(),
      warmNs: undefined,
      warmFrames: 0,
      lastNs: 0n,
    };
    server.on('upgrade', (req, socket: Socket) => {
      socket.on('error', () => undefined);
      if (req.url !== RELAY_PATH || req.headers[RELAY_TOKEN_HEADER] !== token) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      if (!acceptUpgrade(req, socket)) return;
      state.connections += 1;
      if (stall.has(i)) {
        socket.pause();
        return;
      }
      socket.on('data', (chunk: Buffer) => {
        if (state.counter.push(chunk) === 0) return;
        state.lastNs = process.hrtime.bigint();
        if (state.warmNs === undefined && state.counter.frames >= warmup) {
          state.warmNs = state.lastNs;
          state.warmFrames = state.counter.frames;
        }
        if (state.counter.frames >= expect) check();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    state.port = typeof address === 'object' && address !== null ? address.port : 0;
    states.push(state);
  }
  setTimeout(report, Number(args.timeoutMs ?? 120_000)).unref();
  print({ ready: true, ports: states.map((s) => s.port) });
  await new Promise(() => undefined);
}

/** The `blaster` worker: the plain `ws` server of the reference hops and the 1,000 msg/s latencies. */
import { WebSocket, WebSocketServer } from 'ws';
import { wallClock } from '../../lib/clock';
import { benchTrade, print, startSignal, type WorkerArgs } from './common';

/**
 * A plain `ws` broadcast server: once `clients` clients are connected (and, with `waitSignal`, on
 * {@link START_SIGNAL}) it sends `count` trades to all of them, either as fast as the sockets take
 * them (`rate` 0) or at `rate` msg/s, in bursts of `burst` messages sent within one loop turn when
 * `burst` > 1.
 */
export async function blaster(args: WorkerArgs): Promise<void> {
  const count = Number(args.count);
  const rate = Number(args.rate ?? 0);
  const clients = Number(args.clients ?? 1);
  const burst = Number(args.burst ?? 1);
  const clock = wallClock();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const address = server.address();
  print({ ready: true, port: typeof address === 'object' && address !== null ? address.port : 0 });
  const sockets: WebSocket[] = [];
  const started = startSignal(args.waitSignal === true);
  await new Promise<void>((resolve) => {
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      sockets.push(socket);
      print({ connected: sockets.length });
      if (sockets.length === clients) resolve();
    });
  });
  await started;
  let sent = 0;
  const startedNs = process.hrtime.bigint();
  const sendOne = (): void => {
    const message = benchTrade(sent + 1, clock.nowUs());
    for (const socket of sockets) socket.send(message);
    sent += 1;
  };
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (rate <= 0) {
        // As fast as the sockets drain: keep every socket's buffer under 4 MB.
        while (sent < count && sockets.every((s) => s.bufferedAmount < 4 << 20)) {
          for (let i = 0; i < 256 && sent < count; i += 1) sendOne();
        }
      } else {
        const due = Math.min(
          count,
          Math.floor((Number(process.hrtime.bigint() - startedNs) / 1e9) * rate) + 1,
        );
        while (sent < due) {
          for (let i = 0; i < burst && sent < count; i += 1) sendOne();
        }
      }
      if (sent >= count) resolve();
      else if (rate <= 0) setImmediate(pump);
      else setTimeout(pump, Math.max(0, Math.floor(1000 / rate) - 1));
    };
    pump();
  });
  // Let the clients read what is buffered, then leave.
  const drained = (): boolean => sockets.every((s) => s.bufferedAmount === 0);
  while (!drained()) await new Promise((resolve) => setTimeout(resolve, 20));
  print({ done: true, sent });
  await new Promise((resolve) => setTimeout(resolve, Number(args.lingerMs ?? 2000)));
  process.exit(0);
}

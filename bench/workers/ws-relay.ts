/** The `wsRelay` worker: a plain `ws` relay in the forwarder's place (its added latency's reference). */
import { WebSocket } from 'ws';
import { wallClock } from '../../lib/clock';
import { RELAY_TOKEN_HEADER } from '../../lib/wire';
import { exitAfter, print, type WorkerArgs } from './common';

/**
 * A plain `ws` relay in the forwarder's place — the reference for the forwarder's added latency: a
 * `ws` client of `exchangeUrl` that sends each message on as `<stamp ns> <message>` to a receiver's
 * relay endpoint (`receiverUrl`, with `token`), with nothing else on its path.
 */
export async function wsRelay(args: WorkerArgs): Promise<void> {
  exitAfter(Number(args.maxLifeMs ?? 300_000));
  const clock = wallClock();
  const fail = (error: Error): void => {
    print({ error: error.message });
    process.exit(1);
  };
  const out = new WebSocket(String(args.receiverUrl), {
    perMessageDeflate: false,
    headers: { [RELAY_TOKEN_HEADER]: String(args.token) },
  });
  out.on('error', fail);
  await new Promise((resolve) => out.once('open', resolve));
  const input = new WebSocket(String(args.exchangeUrl), { perMessageDeflate: false });
  input.on('error', fail);
  input.on('message', (data: Buffer) => {
    const stampNs = clock.nowNs();
    out.send(`${stampNs} ${data.toString()}`);
  });
  input.on('open', () => print({ ready: true }));
}

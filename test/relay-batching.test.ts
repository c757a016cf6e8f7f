/**
 * The forwarder's hot path: relay frames built once as complete WebSocket frames, the
 * first of a turn sent at once and the rest of the turn batched — and nothing of a message or its
 * stamp lost or reordered on the way.
 */
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { RelayFanOut } from '../agents/forwarder/fan-out';
import { startForwarder, type ForwarderHandle } from '../agents/forwarder/agent';
import { startReceiver, type ReceiverHandle } from '../agents/receiver/agent';
import { decodeRelayFrame, encodeRelayWsFrame } from '../lib/wire';
import { readCsv, startFakeExchange, tempDir, waitFor, type FakeExchange } from './feed.helpers';

const quiet = { log: () => undefined, report: () => undefined };
const TOKEN = 'relay-batching-token';

/** A ws server and the raw socket of a ws client connected to it, to write hand-made frames on. */
async function rawClient(): Promise<{ socket: Socket; received: string[]; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const received: string[] = [];
  wss.on('connection', (ws) => ws.on('message', (data: Buffer) => received.push(data.toString())));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
    perMessageDeflate: false,
  });
  const upgraded = new Promise<Socket>((resolve) =>
    client.once('upgrade', (res) => resolve(res.socket as Socket)),
  );
  await new Promise((resolve) => client.once('open', resolve));
  const socket = await upgraded;
  return {
    socket,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        client.terminate();
        wss.close(() => resolve());
      }),
  };
}

describe('relay frame (encodeRelayWsFrame)', () => {
  it('is read by a ws server as exactly `<stamp> <raw>`, whatever the payload length', async () => {
    const peer = await rawClient();
    const raws = [10, 200, 70_000].map((n, i) => `{"e":"trade","t":${i},"pad":"${'x'.repeat(n)}"}`);
    const stamps = [1n, 1_795_000_000_123_456_789n, 42n];

    for (let i = 0; i < raws.length; i += 1)
      peer.socket.write(encodeRelayWsFrame(stamps[i] as bigint, Buffer.from(raws[i] as string)));
    await waitFor(() => peer.received.length === raws.length, 'three frames');

    expect(peer.received.map((text) => decodeRelayFrame(text))).toEqual(
      raws.map((raw, i) => ({ stampNs: stamps[i], raw })),
    );
    await peer.close();
  });
});

describe('relay fan-out', () => {
  interface Sent {
    bytes: Buffer;
    frames: number;
  }
  const target = (): { sent: Sent[]; send: (bytes: Buffer, frames?: number) => void } => {
    const sent: Sent[] = [];
    return { sent, send: (bytes, frames = 1) => sent.push({ bytes, frames }) };
  };
  const frame = (i: number): Buffer => encodeRelayWsFrame(BigInt(1000 + i), Buffer.from(`{"t":${i}}`));

  it('sends a lone frame at once, without waiting for the turn to end', () => {
    const link = target();
    const fanOut = new RelayFanOut([link]);

    fanOut.relay(frame(1));

    expect(link.sent).toEqual([{ bytes: frame(1), frames: 1 }]);
  });

  it('sends the first frame of a turn at once and the rest, in order, in one write per receiver', async () => {
    const links = [target(), target(), target()];
    const fanOut = new RelayFanOut(links);
    const frames = Array.from({ length: 50 }, (_, i) => frame(i));

    for (const f of frames) fanOut.relay(f);
    const duringTurn = links.map((l) => l.sent.length);
    await new Promise((resolve) => setImmediate(resolve));

    expect(duringTurn).toEqual([1, 1, 1]);
    for (const link of links) {
      expect(link.sent).toHaveLength(2);
      expect(link.sent[0]).toEqual({ bytes: frames[0], frames: 1 });
      expect(link.sent[1]).toEqual({ bytes: Buffer.concat(frames.slice(1)), frames: 49 });
    }
    // Every receiver gets the same bytes: built once.
    expect(links[1]?.sent[1]?.bytes).toBe(links[0]?.sent[1]?.bytes);
  });

  it('starts a new turn after the previous one ended', async () => {
    const link = target();
    const fanOut = new RelayFanOut([link]);

    fanOut.relay(frame(1));
    await new Promise((resolve) => setImmediate(resolve));
    fanOut.relay(frame(2));

    expect(link.sent.map((s) => s.frames)).toEqual([1, 1]);
  });
});

describe('forwarder batching, end to end', () => {
  let fake: FakeExchange | undefined;
  let forwarder: ForwarderHandle | undefined;
  const receivers: ReceiverHandle[] = [];

  afterEach(async () => {
    await forwarder?.stop('test end');
    for (const receiver of receivers) await receiver.stop('test end');
    receivers.length = 0;
    await fake?.close();
    forwarder = undefined;
    fake = undefined;
  });

  it('keeps every message of a burst, in order, each with its own forwarder stamp, at every receiver', async () => {
    fake = await startFakeExchange();
    const outDirs = [await tempDir('batch-a'), await tempDir('batch-b')];
    for (const outDir of outDirs)
      receivers.push(
        await startReceiver({ mode: 'backbone', host: '127.0.0.1', port: 0, token: TOKEN, outDir }, quiet),
      );
    forwarder = await startForwarder(
      {
        exchangeUrl: fake.url,
        receivers: receivers.map((r) => ({ host: '127.0.0.1', port: r.port as number })),
        token: TOKEN,
        outDir: await tempDir('batch-fwd'),
      },
      quiet,
    );
    const f = forwarder;
    await waitFor(
      () => fake?.connections.length === 1 && f.counters().receivers.every((r) => r.connected),
      'the forwarder to connect both ways',
    );
    const count = 3_000;
    const exchangeSocket = fake.connections[0] as WebSocket;

    // One turn: the forwarder reads them in a few chunks of many messages each.
    for (let id = 1; id <= count; id += 1) {
      exchangeSocket.send(
        `{"stream":"btcusdt@trade","data":{"e":"trade","E":${Date.now() * 1000},"s":"BTCUSDT","t":${id},"p":"1.0","q":"1.0","T":1,"m":true,"M":true}}`,
      );
    }
    await waitFor(
      () => receivers.every((r) => (r.counters().paths.backbone?.samples ?? 0) === count),
      `${count} samples at each receiver`,
      10_000,
    );
    for (const receiver of receivers) await receiver.stop('test end');

    const tables = await Promise.all(outDirs.map((dir) => readCsv(join(dir, 'backbone-results.csv'))));
    for (const { rows } of tables) {
      expect(rows.map((row) => Number(row[0]))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      const stamps = rows.map((row) => BigInt(row[2] as string));
      for (let i = 1; i < stamps.length; i += 1)
        expect(stamps[i] as bigint).toBeGreaterThanOrEqual(stamps[i - 1] as bigint);
      for (const row of rows)
        expect(BigInt(row[3] as string)).toBeGreaterThanOrEqual(BigInt(row[2] as string));
    }
    // Both receivers got the very same stamps: one frame per message, fanned out.
    expect(tables[1]?.rows.map((row) => row[2])).toEqual(tables[0]?.rows.map((row) => row[2]));
    expect(f.counters().receivers.map((r) => [r.relayed, r.dropped])).toEqual([
      [count, 0],
      [count, 0],
    ]);
  });
});

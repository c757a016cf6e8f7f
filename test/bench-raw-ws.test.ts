/**
 * The benchmark's own WebSocket peers (bench/raw-ws.ts): a figure is only as good as the load
 * generator and the counting sinks, so they are checked against `ws` itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket } from 'ws';
import { ClientFrameCounter, acceptUpgrade, textFrames } from '../bench/raw-ws';
import { waitFor } from './feed.helpers';

describe('bench raw WebSocket peers', () => {
  let server: Server | undefined;
  let client: WebSocket | undefined;
  const sockets: Socket[] = [];

  afterEach(async () => {
    client?.terminate();
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
    client = undefined;
  });

  /** A server that accepts with acceptUpgrade and hands over the socket. */
  async function rawServer(): Promise<{ port: number; socket: Promise<Socket> }> {
    const s = createServer();
    server = s;
    const socket = new Promise<Socket>((resolve) =>
      s.on('upgrade', (req, sock: Socket) => {
        sockets.push(sock);
        if (acceptUpgrade(req, sock)) resolve(sock);
      }),
    );
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return { port: (s.address() as AddressInfo).port, socket };
  }

  it('completes the handshake with a ws client and sends frames it reads as the same messages', async () => {
    const { port, socket } = await rawServer();
    const received: string[] = [];
    client = new WebSocket(`ws://127.0.0.1:${port}/ws/x`, { perMessageDeflate: false });
    client.on('message', (data: Buffer) => received.push(data.toString()));
    const messages = ['{"a":1}', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(60_000)];

    (await socket).write(textFrames(messages));
    await waitFor(() => received.length === messages.length, 'all messages');

    expect(received).toEqual(messages);
  });

  it('counts the frames a ws client sends, however the bytes are split into chunks', async () => {
    const { port, socket } = await rawServer();
    const chunks: Buffer[] = [];
    const live = new ClientFrameCounter();
    client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    (await socket).on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      live.push(chunk);
    });
    await new Promise((resolve) => client?.once('open', resolve));
    const sizes = [0, 10, 125, 126, 65_535, 65_536, 70_000];

    for (const size of sizes) client.send('m'.repeat(size));
    client.ping();
    await waitFor(() => live.frames === sizes.length && live.control === 1, 'every frame counted');
    const bytes = Buffer.concat(chunks);
    const counters = [1, 997].map((step) => {
      const counter = new ClientFrameCounter();
      for (let i = 0; i < bytes.length; i += step) counter.push(bytes.subarray(i, i + step));
      return counter;
    });

    for (const counter of counters) {
      expect(counter.frames).toBe(sizes.length);
      expect(counter.control).toBe(1);
    }
  });
});

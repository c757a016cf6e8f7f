import { createHash, randomBytes } from 'node:crypto';
import net, { type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { linkAgent } from '../agents/link/agent';
import { linkConfigSchema } from '../agents/link/config';
import { startLink, type LinkHandle } from '../agents/link/proxy';
import type { AgentEvent } from '../lib/agent';
import { ErrorCode, FeedpathError } from '../lib/errors';

const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A loopback TCP server on port 0 that hands each connection to `onSocket`; closed after the test. */
async function tcpServer(
  onSocket: (socket: Socket) => void,
): Promise<{ port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as net.AddressInfo).port, sockets };
}

async function link(config: Parameters<typeof startLink>[0]): Promise<LinkHandle> {
  const handle = await startLink(config);
  cleanups.push(() => handle.stop());
  return handle;
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
    cleanups.push(() => socket.destroy());
  });
}

/** Everything a socket receives until its peer ends. */
function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))));
}

function closed(socket: Socket): Promise<{ atMs: number; hadError: boolean }> {
  return new Promise((resolve) =>
    socket.once('close', (hadError) => resolve({ atMs: performance.now(), hadError })),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sha(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('link config', () => {
  it('fills the defaults', () => {
    const config = linkConfigSchema.parse({ target: { port: 9000 } });

    expect(config).toEqual({
      name: 'link',
      host: '127.0.0.1',
      port: 0,
      target: { host: '127.0.0.1', port: 9000 },
      forward: { delayMs: 0, jitterMs: 0 },
      reverse: { delayMs: 0, jitterMs: 0 },
      // No hop compensation unless a local run measured one.
      compensationMs: 0,
      seed: 1,
      highWaterMarkBytes: 16 * 1024 * 1024,
      progressIntervalMs: 1_000,
    });
  });

  it('rejects an unknown key with FP_BAD_CONFIG, naming it', async () => {
    const attempt = startLink({ target: { port: 9000 }, delay: 5 } as never);

    await expect(attempt).rejects.toMatchObject({
      code: ErrorCode.badConfig,
      message: expect.stringMatching(/delay/),
    });
  });
});

describe('link', () => {
  it('relays bytes intact and in order both ways under jitter', async () => {
    const echo = await tcpServer((socket) => socket.pipe(socket));
    const proxy = await link({
      target: { port: echo.port },
      forward: { delayMs: 2, jitterMs: 3 },
      reverse: { delayMs: 2, jitterMs: 3 },
    });
    const payload = randomBytes(4 * 1024 * 1024);
    const client = await connect(proxy.port);
    const echoed = readAll(client);

    for (let offset = 0; offset < payload.length; offset += 50_000) {
      client.write(payload.subarray(offset, offset + 50_000));
      if (offset % 500_000 === 0) await sleep(1);
    }
    client.end();
    const received = await echoed;

    expect(received.length).toBe(payload.length);
    expect(sha(received)).toBe(sha(payload));
    const { forward, reverse } = proxy.counters;
    expect(forward.bytes).toBe(payload.length);
    expect(reverse.deliveredBytes).toBe(payload.length);
    expect(forward.chunks).toBeGreaterThan(1);
  });

  it('never lets a chunk overtake an earlier one, even when the jitter dwarfs the gaps', async () => {
    const echo = await tcpServer((socket) => socket.pipe(socket));
    const proxy = await link({
      target: { port: echo.port },
      forward: { delayMs: 1, jitterMs: 20 },
      reverse: { delayMs: 1, jitterMs: 20 },
      seed: 7,
    });
    const client = await connect(proxy.port);
    const echoed = readAll(client);
    const lines: string[] = [];

    for (let i = 0; i < 200; i += 1) {
      const line = `${i}\n`;
      lines.push(line);
      client.write(line);
      await sleep(1);
    }
    client.end();
    const received = (await echoed).toString();

    expect(received).toBe(lines.join(''));
    // Enough separate chunks that a 20 ms jitter would have reordered them without the rule.
    expect(proxy.counters.forward.chunks).toBeGreaterThan(20);
  });

  it('propagates a half-close after the delay, and the other direction keeps working', async () => {
    const delayMs = 50;
    let onTargetSaw: (saw: Promise<{ data: string; endAtMs: number }>) => void = () => undefined;
    const targetSaw = new Promise<{ data: string; endAtMs: number }>((resolve) => (onTargetSaw = resolve));
    const target = await tcpServer((socket) => {
      onTargetSaw(
        readAll(socket).then((data) => {
          const endAtMs = performance.now();
          socket.end('bye');
          return { data: data.toString(), endAtMs };
        }),
      );
    });
    const proxy = await link({
      target: { port: target.port },
      forward: { delayMs, jitterMs: 0 },
      reverse: { delayMs, jitterMs: 0 },
    });
    const client = await connect(proxy.port);
    const reply = readAll(client);
    const clientClosed = closed(client);

    client.end('hello');
    const endSentAtMs = performance.now();
    const reached = await targetSaw;
    const answer = await reply;
    const answeredAtMs = performance.now();
    await clientClosed;

    expect(reached.data).toBe('hello');
    expect(reached.endAtMs - endSentAtMs).toBeGreaterThanOrEqual(delayMs - 1);
    expect(answer.toString()).toBe('bye');
    expect(answeredAtMs - endSentAtMs).toBeGreaterThanOrEqual(2 * delayMs - 1);
    await sleep(20);
    expect(proxy.counters.connections.active).toBe(0);
  });

  it('closes the client after the delay when the target resets', async () => {
    const delayMs = 40;
    const target = await tcpServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    const proxy = await link({
      target: { port: target.port },
      forward: { delayMs, jitterMs: 0 },
      reverse: { delayMs, jitterMs: 0 },
    });
    const client = await connect(proxy.port);
    client.on('error', () => undefined);
    const clientClosed = closed(client);

    const sentAtMs = performance.now();
    client.write('trigger');
    const { atMs, hadError } = await clientClosed;

    expect(hadError).toBe(true);
    expect(atMs - sentAtMs).toBeGreaterThanOrEqual(2 * delayMs - 1);
  });

  it('closes the target after the delay when the client goes away', async () => {
    const delayMs = 40;
    let targetClosed: Promise<{ atMs: number; hadError: boolean }> = new Promise(() => undefined);
    let onTargetSocket: () => void = () => undefined;
    const targetConnected = new Promise<void>((resolve) => (onTargetSocket = resolve));
    const target = await tcpServer((socket) => {
      targetClosed = closed(socket);
      onTargetSocket();
    });
    const proxy = await link({
      target: { port: target.port },
      forward: { delayMs, jitterMs: 0 },
      reverse: { delayMs, jitterMs: 0 },
    });
    const client = await connect(proxy.port);
    await targetConnected;

    const goneAtMs = performance.now();
    client.resetAndDestroy();
    const { atMs } = await targetClosed;

    expect(atMs - goneAtMs).toBeGreaterThanOrEqual(delayMs - 1);
    expect(atMs - goneAtMs).toBeLessThan(delayMs + 500);
  });

  it('closes the client and counts it when the target is unreachable', async () => {
    const proxy = await link({ target: { port: await freePort() } });
    const client = await connect(proxy.port);
    client.on('error', () => undefined);

    await closed(client);

    const { connections, lastError } = proxy.counters;
    expect(connections.unreachable).toBe(1);
    expect(lastError).toMatchObject({ side: 'target', code: 'ECONNREFUSED' });
    expect(connections.active).toBe(0);
  });

  it('refuses a port in use with FP_PORT_IN_USE', async () => {
    const first = await link({ target: { port: 9 } });

    const second = startLink({ target: { port: 9 }, port: first.port });

    await expect(second).rejects.toBeInstanceOf(FeedpathError);
    await expect(second).rejects.toMatchObject({ code: ErrorCode.portInUse });
  });

  it('refuses an address this host does not have with FP_BAD_CONFIG, the cause kept', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never a local address, so the bind fails at once.
    const attempt = startLink({ target: { port: 9 }, host: '192.0.2.1' });

    await expect(attempt).rejects.toMatchObject({
      code: ErrorCode.badConfig,
      cause: expect.objectContaining({ code: 'EADDRNOTAVAIL' }),
    });
  });

  it('stops reading above the high-water mark and delivers everything once the target reads', async () => {
    const highWaterMarkBytes = 256 * 1024;
    let targetSocket: Socket | undefined;
    let received: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    const target = await tcpServer((socket) => {
      targetSocket = socket;
      socket.pause();
      received = readAll(socket);
      socket.pause();
    });
    const proxy = await link({
      target: { port: target.port },
      forward: { delayMs: 5, jitterMs: 0 },
      highWaterMarkBytes,
    });
    const payload = randomBytes(24 * 1024 * 1024);
    const client = await connect(proxy.port);

    client.end(payload);
    await sleep(1_000);
    const whileStalled = proxy.counters.forward;
    targetSocket?.resume();
    const all = await received;

    expect(whileStalled.pauses).toBeGreaterThanOrEqual(1);
    expect(whileStalled.queuedBytes).toBeLessThanOrEqual(highWaterMarkBytes + 1024 * 1024);
    // Without backpressure the link would have read all of it into memory by now.
    expect(whileStalled.bytes).toBeLessThan(payload.length - 8 * 1024 * 1024);
    expect(sha(all)).toBe(sha(payload));
  });

  it('carries a WebSocket session, handshake to close', async () => {
    const delayMs = 20;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    cleanups.push(() => new Promise((resolve) => wss.close(resolve)));
    wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo ${String(data)}`)));
    await new Promise((resolve) => wss.once('listening', resolve));
    const proxy = await link({
      target: { port: (wss.address() as net.AddressInfo).port },
      forward: { delayMs, jitterMs: 1 },
      reverse: { delayMs, jitterMs: 1 },
    });
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/`, { perMessageDeflate: false });
    cleanups.push(() => ws.terminate());
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

    const sentAtMs = performance.now();
    ws.send('hello');
    const reply = await new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    const rttMs = performance.now() - sentAtMs;
    ws.close(1000, 'done');
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));

    expect(reply).toBe('echo hello');
    expect(rttMs).toBeGreaterThanOrEqual(2 * delayMs - 1);
    expect(code).toBe(1000);
  });
});

describe('link agent', () => {
  it('reports ready with the bound port, progress with counters, and totals on stop', async () => {
    const events: AgentEvent[] = [];
    const config = { name: 'exchange-receiver', target: { port: await freePort() }, progressIntervalMs: 50 };
    const agent = await linkAgent.start(config, { report: (event) => events.push(event) });
    cleanups.push(() => agent.stop('cleanup'));
    const ready = events.find((event) => event.event === 'ready');
    const client = await connect(ready?.port as number);
    client.on('error', () => undefined);

    await closed(client);
    for (
      let waited = 0;
      events.filter((event) => event.event === 'progress').length < 2 && waited < 5_000;
      waited += 50
    ) {
      await sleep(50);
    }
    const totals = await agent.stop('test');

    expect(ready).toMatchObject({ agent: 'link', name: 'exchange-receiver', port: expect.any(Number) });
    expect(ready?.port).not.toBe(0);
    const progress = events.filter((event) => event.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatchObject({
      name: 'exchange-receiver',
      connections: { accepted: 1, unreachable: 1 },
      forward: { bytes: 0, chunks: 0 },
    });
    expect(events.filter((event) => event.event === 'warning')).toEqual([
      expect.objectContaining({ code: ErrorCode.targetUnreachable }),
    ]);
    expect(totals).toMatchObject({ name: 'exchange-receiver', connections: { accepted: 1 } });
  });
});

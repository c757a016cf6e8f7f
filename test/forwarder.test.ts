import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { startExchange, type ExchangeHandle } from '../agents/exchange/exchange';
import { startForwarder, type ForwarderHandle } from '../agents/forwarder/agent';
import { startReceiver, type ReceiverHandle } from '../agents/receiver/agent';
import { AgentProcess } from '../cli/local/agent-process';
import type { AgentEvent } from '../lib/agent';
import { agentMetricsSchema } from '../lib/agent-files';
import { CSV_HEADER } from '../lib/samples';
import {
  bundleAgent,
  depthMessage,
  readCsv,
  sleep,
  startFakeExchange,
  tempDir,
  tradeMessage,
  waitFor,
  type FakeExchange,
} from './feed.helpers';

const quiet = { log: () => undefined, report: () => undefined };
const TOKEN = 'forwarder-test-token';

/** A receiver that completes the WebSocket handshake and then stops reading its socket. */
async function startStalledReceiver(): Promise<{ port: number; sockets: Socket[]; server: Server }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      socket.pause();
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, sockets, server };
}

describe('forwarder', () => {
  let fake: FakeExchange | undefined;
  let exchange: ExchangeHandle | undefined;
  let forwarder: ForwarderHandle | undefined;
  const receivers: ReceiverHandle[] = [];
  const children: AgentProcess[] = [];
  let stalled: Awaited<ReturnType<typeof startStalledReceiver>> | undefined;

  afterEach(async () => {
    for (const child of children) await child.kill();
    children.length = 0;
    if (stalled !== undefined) {
      for (const socket of stalled.sockets) socket.destroy();
      await new Promise((resolve) => stalled?.server.close(resolve));
    }
    await forwarder?.stop('test end');
    for (const receiver of receivers) await receiver.stop('test end');
    receivers.length = 0;
    await fake?.close();
    await exchange?.stop();
    forwarder = undefined;
    fake = undefined;
    exchange = undefined;
    stalled = undefined;
  });

  it('cuts off a receiver that stops reading while the fast ones get every message, memory bounded', async () => {
    const maxBufferedBytes = 2 * 1024 * 1024;
    const messages = 3_000;
    const frameBytes = 4_096;
    fake = await startFakeExchange();
    stalled = await startStalledReceiver();
    for (let i = 0; i < 2; i += 1) {
      receivers.push(
        await startReceiver(
          { mode: 'backbone', host: '127.0.0.1', port: 0, token: TOKEN, outDir: await tempDir(`fast-${i}`) },
          quiet,
        ),
      );
    }
    const warnings: AgentEvent[] = [];
    forwarder = await startForwarder(
      {
        exchangeUrl: fake.url,
        receivers: [
          { host: '127.0.0.1', port: receivers[0]?.port as number },
          { host: '127.0.0.1', port: stalled.port },
          { host: '127.0.0.1', port: receivers[1]?.port as number },
        ],
        token: TOKEN,
        outDir: await tempDir('fanout-fwd'),
        maxBufferedBytes,
        reconnectBaseDelayMs: 100,
      },
      { ...quiet, report: (event) => event.event === 'warning' && warnings.push(event) },
    );
    const f = forwarder;
    const ex = fake;
    await waitFor(
      () => ex.connections.length === 1 && f.counters().receivers.every((r) => r.connected),
      'the forwarder connected to the exchange and all receivers',
    );

    const exchangeWs = ex.connections[0];
    for (let sent = 0; sent < messages; sent += 50) {
      for (let i = sent; i < sent + 50; i += 1) exchangeWs?.send(depthMessage(i + 1, frameBytes));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor(
      () => receivers.every((r) => r.counters().paths.backbone?.samples === messages),
      'both fast receivers to get every message',
      15_000,
    );

    const [fast0, slow, fast1] = f.counters().receivers;
    expect(slow?.cutoffs).toBeGreaterThanOrEqual(1);
    // The bound is checked before each write (including the write's own bytes), so it holds exactly.
    expect(slow?.max_buffered_bytes).toBeGreaterThan(0);
    expect(slow?.max_buffered_bytes).toBeLessThanOrEqual(maxBufferedBytes);
    expect(warnings.map((w) => w.code)).toContain('FP_RECEIVER_SLOW');
    for (const fast of [fast0, fast1]) {
      expect(fast).toMatchObject({ relayed: messages, dropped: 0, cutoffs: 0 });
    }
    for (const receiver of receivers) expect(receiver.counters().paths.backbone?.lost).toBe(0);
  });

  it('carries its upstream connection to the receiver: backbone rows turn to connection 2 exactly at a reconnect', async () => {
    fake = await startFakeExchange();
    const rxDir = await tempDir('ordinal-rx');
    const receiver = await startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port: 0, token: TOKEN, outDir: rxDir },
      quiet,
    );
    receivers.push(receiver);
    const fwdDir = await tempDir('ordinal-fwd');
    forwarder = await startForwarder(
      {
        exchangeUrl: fake.url,
        receivers: [{ host: '127.0.0.1', port: receiver.port as number }],
        token: TOKEN,
        outDir: fwdDir,
        reconnectBaseDelayMs: 20,
      },
      quiet,
    );
    const f = forwarder;
    const ex = fake;
    const backbone = (): number => receiver.counters().paths.backbone?.samples ?? 0;
    await waitFor(
      () => ex.connections.length === 1 && f.counters().receivers[0]?.connected === true,
      'the forwarder connected to the exchange and the receiver',
    );

    for (let id = 1; id <= 100; id += 1) ex.connections[0]?.send(tradeMessage(id));
    await waitFor(() => backbone() === 100, '100 events on the first connection');
    ex.connections[0]?.terminate();
    await waitFor(
      () => ex.connections.length === 2 && f.counters().feed.connects === 2,
      'the forwarder to reconnect',
    );
    for (let id = 101; id <= 200; id += 1) ex.connections[1]?.send(tradeMessage(id));
    await waitFor(() => backbone() === 200, '100 events on the second connection');
    await forwarder.stop('test end');
    forwarder = undefined;
    receivers.length = 0;
    await receiver.stop('test end');

    const connection = CSV_HEADER.split(',').indexOf('connection');
    const rows = (await readCsv(join(rxDir, 'backbone-results.csv'))).rows;
    expect(rows.map((row) => Number(row[0]))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(rows.map((row) => row[connection])).toEqual([
      ...Array<string>(100).fill('1'),
      ...Array<string>(100).fill('2'),
    ]);
    const metrics = agentMetricsSchema.parse(
      JSON.parse(await readFile(join(fwdDir, 'metrics', 'forwarder.json'), 'utf8')),
    );
    const upstream = metrics.connections?.filter((c) => c.feed === 'backbone');
    expect(upstream).toEqual([
      expect.objectContaining({
        agent: 'forwarder',
        ordinal: 1,
        remote: { address: '127.0.0.1', port: ex.port },
        close_reason: expect.stringMatching(/closed by the server|ECONNRESET|socket hang up/),
      }),
      expect.objectContaining({
        ordinal: 2,
        remote: { address: '127.0.0.1', port: ex.port },
        close_reason: 'stopped',
      }),
    ]);
    expect(Date.parse(upstream?.[0]?.closed_at ?? '')).toBeLessThanOrEqual(
      Date.parse(upstream?.[1]?.opened_at ?? ''),
    );
    expect(metrics.connections?.filter((c) => c.feed === 'relay')).toEqual([
      expect.objectContaining({ ordinal: 1, remote: { address: '127.0.0.1', port: receiver.port } }),
    ]);
  });

  it('killed and restarted mid-run: the receiver keeps its samples, counts the loss, the backbone resumes', async () => {
    const agentsDir = await bundleAgent('forwarder');
    const logDir = await tempDir('restart-logs');
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 400, bookTickerPerSecond: 0, burstSize: 0 },
    });
    const outDir = await tempDir('restart');
    const receiver = await startReceiver(
      { host: '127.0.0.1', port: 0, exchangeUrl: exchange.url, token: TOKEN, outDir },
      quiet,
    );
    receivers.push(receiver);
    const forwarderConfig = {
      exchangeUrl: exchange.url,
      receivers: [{ host: '127.0.0.1', port: receiver.port }],
      token: TOKEN,
      outDir: await tempDir('restart-fwd'),
    };
    const backbone = (): number => receiver.counters().paths.backbone?.samples ?? 0;

    const first = await AgentProcess.start('forwarder-1', 'forwarder', forwarderConfig, {
      logDir,
      agentsDir,
    });
    children.push(first.process);
    await waitFor(() => backbone() > 100, '100 backbone samples from the first forwarder', 8_000);
    await first.process.kill();
    await waitFor(
      () => receiver.counters().relay.connections === 0,
      'the receiver to see the forwarder gone',
    );
    const beforeRestart = backbone();
    await sleep(300);
    const second = await AgentProcess.start('forwarder-2', 'forwarder', forwarderConfig, {
      logDir,
      agentsDir,
    });
    children.push(second.process);
    await waitFor(
      () => receiver.counters().relay.accepted === 2,
      'the restarted forwarder to connect',
      8_000,
    );
    await waitFor(() => backbone() > beforeRestart + 100, '100 backbone samples after the restart', 8_000);
    await exchange.stop();
    await sleep(100);
    receivers.length = 0;
    const done = await receiver.stop('test end');

    const status = receiver.counters().paths;
    const baselineRows = (await readCsv(join(outDir, 'baseline-results.csv'))).rows;
    const backboneRows = (await readCsv(join(outDir, 'backbone-results.csv'))).rows;
    const backboneIds = new Set(backboneRows.map((row) => Number(row[0])));
    const firstId = Math.min(...backboneIds);
    const lastId = Math.max(...backboneIds);
    const missing = baselineRows
      .map((row) => Number(row[0]))
      .filter((id) => id > firstId && id < lastId && !backboneIds.has(id));
    expect(status.baseline?.lost).toBe(0);
    expect(missing.length).toBeGreaterThan(50);
    expect(status.backbone?.lost).toBe(missing.length);
    expect(backboneRows.length).toBe(status.backbone?.samples);
    expect(done.samples).toEqual({
      baseline: baselineRows.length,
      backbone: backboneRows.length,
      control: expect.any(Number),
    });
    const summary = JSON.parse(await readFile(join(outDir, 'backbone-results.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(summary.sample_count).toBe(backboneRows.length);
    expect(summary.events_lost).toBe(missing.length);
  });

  it('writes its metrics and reports per-receiver progress', async () => {
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 200, bookTickerPerSecond: 0 },
    });
    const receiver = await startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port: 0, token: TOKEN, outDir: await tempDir('metrics-rx') },
      quiet,
    );
    receivers.push(receiver);
    const outDir = await tempDir('metrics-fwd');
    const events: AgentEvent[] = [];
    forwarder = await startForwarder(
      {
        exchangeUrl: exchange.url,
        receivers: [{ host: '127.0.0.1', port: receiver.port as number }],
        token: TOKEN,
        outDir,
        progressIntervalMs: 100,
      },
      { ...quiet, report: (event) => events.push(event) },
    );

    await waitFor(
      () => events.filter((e) => e.event === 'progress' && e.receivers_connected === 1).length >= 3,
      'progress',
    );
    const done = await forwarder.stop('test end');
    forwarder = undefined;

    const metrics = JSON.parse(await readFile(join(outDir, 'metrics', 'forwarder.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const csv = await readCsv(join(outDir, 'metrics', 'forwarder.csv'));
    expect(events[0]).toMatchObject({ event: 'ready', agent: 'forwarder' });
    expect(events.find((e) => e.event === 'progress' && e.receivers_connected === 1)).toMatchObject({
      exchange_connected: true,
      receivers: [{ receiver: `127.0.0.1:${receiver.port}`, connected: true }],
    });
    expect(metrics.agent).toBe('forwarder');
    const bound = metrics.clock_error_bound_ms as { start: unknown; end: unknown };
    for (const value of [bound.start, bound.end])
      expect(value === null || typeof value === 'number').toBe(true);
    for (const key of [
      'avg_cpu_pct',
      'max_cpu_pct',
      'avg_rss_mb',
      'max_rss_mb',
      'avg_msgs_per_s',
      'max_msgs_per_s',
    ]) {
      expect(typeof metrics[key]).toBe('number');
    }
    expect(csv.header).toBe('time_ms,cpu_pct,rss_mb,msgs_per_s,exchange_msgs_per_s');
    expect(csv.rows.length).toBe(metrics.samples);
    expect(done.msgs_in).toBeGreaterThan(0);
  });

  it('ends by itself after durationSeconds', async () => {
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 50, bookTickerPerSecond: 0 },
    });
    const started = Date.now();
    forwarder = await startForwarder(
      {
        exchangeUrl: exchange.url,
        receivers: [{ host: '127.0.0.1', port: 9 }],
        token: TOKEN,
        outDir: await tempDir('duration'),
        durationSeconds: 0.3,
      },
      quiet,
    );

    await forwarder.finished;

    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

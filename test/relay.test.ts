import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startExchange, type ExchangeHandle } from '../agents/exchange/exchange';
import { startForwarder, type ForwarderHandle } from '../agents/forwarder/agent';
import { startReceiver, type ReceiverHandle } from '../agents/receiver/agent';
import type { AgentEvent } from '../lib/agent';
import { agentMetricsSchema } from '../lib/agent-files';
import { CSV_HEADER } from '../lib/samples';
import { connectionAnnouncement, encodeRelayFrame } from '../lib/wire';
import { freePort, readCsv, sleep, tempDir, waitFor } from './feed.helpers';

const quiet = { log: () => undefined };
const TOKEN = 'relay-test-token';
/** Where a row's `connection` cell is (the last of our extra columns). */
const CONNECTION = CSV_HEADER.split(',').indexOf('connection');

describe('forwarder → receiver relay', () => {
  let exchange: ExchangeHandle | undefined;
  let receiver: ReceiverHandle | undefined;
  let forwarder: ForwarderHandle | undefined;

  afterEach(async () => {
    await forwarder?.stop('test end');
    await receiver?.stop('test end');
    await exchange?.stop();
    forwarder = undefined;
    receiver = undefined;
    exchange = undefined;
  });

  it('gives a paired receiver the same events on both paths and the control, with the seed columns, forwarder stamps and connections', async () => {
    exchange = await startExchange({
      source: {
        kind: 'synthetic',
        tradesPerSecond: 300,
        bookTickerPerSecond: 0,
        burstSize: 50,
        burstIntervalMs: 400,
      },
    });
    const outDir = await tempDir('paired');
    const receiverEvents: AgentEvent[] = [];
    receiver = await startReceiver(
      {
        host: '127.0.0.1',
        port: 0,
        exchangeUrl: exchange.url,
        token: TOKEN,
        outDir,
        progressIntervalMs: 200,
      },
      { ...quiet, report: (event) => receiverEvents.push(event) },
    );
    forwarder = await startForwarder(
      {
        exchangeUrl: exchange.url,
        receivers: [{ host: '127.0.0.1', port: receiver.port as number }],
        token: TOKEN,
        outDir: await tempDir('paired-fwd'),
      },
      { ...quiet, report: () => undefined },
    );
    const r = receiver;
    await waitFor(() => r.counters().relay.connections === 1, 'the forwarder to connect');
    const backboneStart = r.counters().paths.backbone?.samples ?? 0;
    await waitFor(
      () => (r.counters().paths.backbone?.samples ?? 0) > backboneStart + 200,
      '200 events on the backbone',
    );

    await exchange.stop();
    await sleep(100);
    const done = await receiver.stop('test end');

    const baseline = await readCsv(join(outDir, 'baseline-results.csv'));
    const backbone = await readCsv(join(outDir, 'backbone-results.csv'));
    const control = await readCsv(join(outDir, 'control-results.csv'));
    expect(baseline.header).toBe(CSV_HEADER);
    expect(backbone.header).toBe(CSV_HEADER);
    expect(control.header).toBe(CSV_HEADER);
    // One connection each, nothing reconnected: every row names connection 1 (the backbone's is the
    // forwarder's upstream connection, announced on the relay).
    for (const rows of [baseline.rows, backbone.rows, control.rows]) {
      expect(new Set(rows.map((row) => row[CONNECTION]))).toEqual(new Set(['1']));
    }
    expect(control.rows.length).toBeGreaterThan(200);
    // The two exchange connections opened at different instants: compare where both were open.
    const ids = (rows: string[][]): number[] => rows.map((row) => Number(row[0]));
    const from = Math.max(ids(baseline.rows)[0] as number, ids(backbone.rows)[0] as number);
    const to = Math.min(ids(baseline.rows).at(-1) as number, ids(backbone.rows).at(-1) as number);
    const within = (list: number[]): number[] => list.filter((id) => id >= from && id <= to);
    expect(within(ids(backbone.rows))).toEqual(within(ids(baseline.rows)));
    expect(within(ids(backbone.rows)).length).toBeGreaterThan(200);
    // sequence_id, binance_time, tokyo_time, frankfurt_time, end_to_end_latency_ms, backbone_latency_ms
    for (const row of backbone.rows) {
      const tokyo = BigInt(row[2] as string);
      const frankfurt = BigInt(row[3] as string);
      expect(frankfurt).toBeGreaterThanOrEqual(tokyo);
      expect(Number(row[5])).toBeGreaterThanOrEqual(0);
      expect(Number(row[4])).toBeGreaterThanOrEqual(0);
    }
    for (const row of baseline.rows) {
      expect(row[2]).toBe('');
      expect(row[5]).toBe('');
    }
    expect(done.samples).toEqual({
      baseline: baseline.rows.length,
      backbone: backbone.rows.length,
      control: control.rows.length,
    });
    const summary = JSON.parse(await readFile(join(outDir, 'backbone-results.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(summary.sample_count).toBe(backbone.rows.length);
    expect(summary.events_lost).toBe(0);
    const controlSummary = JSON.parse(await readFile(join(outDir, 'control-results.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(controlSummary).toMatchObject({ setup_type: 'control', sample_count: control.rows.length });
    const metrics = agentMetricsSchema.parse(
      JSON.parse(await readFile(join(outDir, 'metrics', 'receiver.json'), 'utf8')),
    );
    const exchangePort = Number(new URL(exchange.url).port);
    expect(metrics.connections).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          agent: 'receiver',
          feed: 'baseline',
          ordinal: 1,
          remote: { address: '127.0.0.1', port: exchangePort },
          // The exchange stopped first: it closed the connection, and said why.
          close_reason: 'closed by the server (code 1001: exchange stopping)',
        }),
        expect.objectContaining({
          feed: 'control',
          ordinal: 1,
          remote: { address: '127.0.0.1', port: exchangePort },
        }),
        expect.objectContaining({
          feed: 'relay',
          ordinal: 1,
          local: { address: '127.0.0.1', port: receiver.port },
          close_reason: 'stopped',
        }),
      ]),
    );
    expect(metrics.connections).toHaveLength(3);
    const [baselineConn, controlConn] = ['baseline', 'control'].map((feed) =>
      metrics.connections?.find((c) => c.feed === feed),
    );
    // Two connections: two client ports.
    expect(baselineConn?.local?.port).not.toBe(controlConn?.local?.port);
    const progress = receiverEvents.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(receiverEvents[0]).toMatchObject({ event: 'ready', port: receiver.port });
  });

  it('refuses a forwarder with the wrong token: FP_AUTH_REJECTED, fatal after the configured rejections', async () => {
    exchange = await startExchange({ source: { kind: 'synthetic', tradesPerSecond: 50 } });
    receiver = await startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port: 0, token: TOKEN, outDir: await tempDir('auth') },
      { ...quiet, report: () => undefined },
    );
    const warnings: AgentEvent[] = [];
    forwarder = await startForwarder(
      {
        exchangeUrl: exchange.url,
        receivers: [{ host: '127.0.0.1', port: receiver.port as number }],
        token: 'not-the-token',
        outDir: await tempDir('auth-fwd'),
        reconnectBaseDelayMs: 20,
        authRejectLimit: 3,
      },
      { ...quiet, report: (event) => event.event === 'warning' && warnings.push(event) },
    );

    await expect(forwarder.finished).rejects.toMatchObject({
      code: 'FP_AUTH_REJECTED',
      message: expect.stringMatching(/rejected the relay token \(HTTP 401\), 3 of 3/),
    });
    expect(warnings.filter((w) => w.code === 'FP_AUTH_REJECTED')).toHaveLength(2);
    expect(receiver.counters().relay.authRejected).toBe(3);
    expect(receiver.counters().relay.accepted).toBe(0);
  });

  it('counts a malformed relay frame and keeps recording', async () => {
    const { default: WebSocket } = await import('ws');
    receiver = await startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port: 0, token: TOKEN, outDir: await tempDir('malformed') },
      { ...quiet, report: () => undefined },
    );
    const ws = new WebSocket(`ws://127.0.0.1:${receiver.port}/relay`, {
      headers: { 'x-feedpath-token': TOKEN },
      perMessageDeflate: false,
    });
    await new Promise((resolve) => ws.once('open', resolve));

    ws.send('garbage without a stamp');
    ws.send('1723161254087896568 {"not":"an event"}');
    ws.send(
      '1723161254087896568 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343000,"s":"BTCUSDT","t":5,"p":"1","q":"1","T":1723161255342000,"m":true,"M":true}}',
    );
    const r = receiver;
    await waitFor(() => r.counters().paths.backbone?.messages === 3, 'three frames');
    ws.close();

    expect(r.counters().paths.backbone).toMatchObject({ samples: 1, malformed: 1, unknown: 1 });
  });

  it('gives backbone rows the upstream connection announced on the relay, and keeps it out of the samples', async () => {
    const { default: WebSocket } = await import('ws');
    const outDir = await tempDir('announce');
    receiver = await startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port: 0, token: TOKEN, outDir },
      { ...quiet, report: () => undefined },
    );
    const ws = new WebSocket(`ws://127.0.0.1:${receiver.port}/relay`, {
      headers: { 'x-feedpath-token': TOKEN },
      perMessageDeflate: false,
    });
    await new Promise((resolve) => ws.once('open', resolve));
    const trade = (id: number): string =>
      `1723161254087896568 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161254000000,"s":"BTCUSDT","t":${id},"p":"1","q":"1","T":1723161254000000,"m":true,"M":true}}`;

    ws.send(trade(1)); // before any announcement: not known
    ws.send(encodeRelayFrame(1723161254087896568n, connectionAnnouncement(3)));
    ws.send(trade(2));
    ws.send(trade(3));
    ws.send('1723161254087896568 {"feedpath_connection":x}');
    ws.send(encodeRelayFrame(1723161254087896568n, connectionAnnouncement(4)));
    ws.send(trade(4));
    const r = receiver;
    await waitFor(() => r.counters().paths.backbone?.messages === 7, 'seven frames');
    ws.close();
    await receiver.stop('test end');
    receiver = undefined;

    const rows = (await readCsv(join(outDir, 'backbone-results.csv'))).rows;
    expect(rows.map((row) => [row[0], row[CONNECTION]])).toEqual([
      ['1', ''],
      ['2', '3'],
      ['3', '3'],
      ['4', '4'],
    ]);
    expect(r.counters().paths.backbone).toMatchObject({ samples: 4, malformed: 1, unknown: 0 });
  });

  it('waits for a receiver that is not up yet (FP_RECEIVER_UNREACHABLE), then relays to it', async () => {
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 200, bookTickerPerSecond: 0 },
    });
    const port = await freePort();
    const warnings: AgentEvent[] = [];
    forwarder = await startForwarder(
      {
        exchangeUrl: exchange.url,
        receivers: [{ host: '127.0.0.1', port }],
        token: TOKEN,
        outDir: await tempDir('late-fwd'),
        reconnectBaseDelayMs: 20,
        reconnectMaxDelaySecs: 0.1,
      },
      { ...quiet, report: (event) => event.event === 'warning' && warnings.push(event) },
    );
    const f = forwarder;
    await waitFor(() => warnings.length > 0, 'a warning');
    // Frames for a receiver that is not up are dropped and counted; wait for some rather than
    // hoping the exchange's first trades arrive before the receiver starts on a busy machine.
    await waitFor(
      () => (f.counters().receivers[0]?.dropped ?? 0) > 0,
      'frames dropped while the receiver is down',
    );

    receiver = await startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port, token: TOKEN, outDir: await tempDir('late-rx') },
      { ...quiet, report: () => undefined },
    );
    const r = receiver;
    await waitFor(() => (r.counters().paths.backbone?.samples ?? 0) > 20, 'samples on the backbone');

    expect(warnings[0]).toMatchObject({
      code: 'FP_RECEIVER_UNREACHABLE',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    expect(f.counters().receivers[0]?.relayed).toBeGreaterThan(20);
  });

  it('drops a relay connection that does not answer pings, and keeps one that does', async () => {
    const { default: WebSocket } = await import('ws');
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 100, bookTickerPerSecond: 0 },
    });
    const warnings: AgentEvent[] = [];
    receiver = await startReceiver(
      {
        mode: 'backbone',
        host: '127.0.0.1',
        port: 0,
        token: TOKEN,
        outDir: await tempDir('ping'),
        relayPingIntervalMs: 50,
      },
      { ...quiet, report: (event) => event.event === 'warning' && warnings.push(event) },
    );
    forwarder = await startForwarder(
      {
        exchangeUrl: exchange.url,
        receivers: [{ host: '127.0.0.1', port: receiver.port as number }],
        token: TOKEN,
        outDir: await tempDir('ping-fwd'),
      },
      { ...quiet, report: () => undefined },
    );
    const f = forwarder;
    await waitFor(() => f.counters().receivers[0]?.connected === true, 'the forwarder to connect');
    const mute = new WebSocket(`ws://127.0.0.1:${receiver.port}/relay`, {
      headers: { 'x-feedpath-token': TOKEN },
      perMessageDeflate: false,
      autoPong: false,
    });
    mute.on('error', () => undefined);
    const closed = new Promise((resolve) => mute.once('close', resolve));

    await closed;
    await sleep(200);

    expect(warnings.map((w) => w.code)).toEqual(['FP_PEER_SILENT']);
    expect(receiver.counters().relay).toMatchObject({ accepted: 2, connections: 1 });
    expect(forwarder.counters().receivers[0]).toMatchObject({ connected: true, connects: 1 });
  });
});

import { readdir, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { startExchange, type ExchangeHandle } from '../agents/exchange/exchange';
import { startReceiver } from '../agents/receiver/agent';
import { parseChronyTracking } from '../lib/resources';
import { spawnSync } from 'node:child_process';
import { AgentProcess } from '../cli/local/agent-process';
import { bundleAgent, readCsv, tempDir, waitFor } from './feed.helpers';

const quiet = { log: () => undefined, report: () => undefined };

describe('receiver', () => {
  let exchange: ExchangeHandle | undefined;
  let blocker: Server | undefined;
  let child: AgentProcess | undefined;

  afterEach(async () => {
    await child?.kill();
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    await exchange?.stop();
    exchange = undefined;
    blocker = undefined;
    child = undefined;
  });

  async function occupiedPort(): Promise<number> {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(0, '127.0.0.1', resolve));
    return (blocker.address() as AddressInfo).port;
  }

  it('fails with FP_PORT_IN_USE when its port is taken, before creating any file', async () => {
    const port = await occupiedPort();
    const outDir = await tempDir('port');

    const start = startReceiver({ mode: 'backbone', host: '127.0.0.1', port, token: 't', outDir }, quiet);

    await expect(start).rejects.toMatchObject({
      code: 'FP_PORT_IN_USE',
      message: expect.stringContaining(`port ${port}`),
    });
    expect(await readdir(outDir)).toEqual([]);
  });

  it('exits non-zero with an FP_PORT_IN_USE error event when run as a process', async () => {
    const agentsDir = await bundleAgent('receiver');
    const port = await occupiedPort();
    const config = {
      mode: 'backbone',
      host: '127.0.0.1',
      port,
      token: 't',
      outDir: await tempDir('port-proc'),
    };

    const run = spawnSync(
      process.execPath,
      [join(agentsDir, 'receiver.js'), '--config-json', JSON.stringify(config)],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    );

    expect(run.status).toBe(1);
    const events = run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toEqual([expect.objectContaining({ event: 'error', code: 'FP_PORT_IN_USE' })]);
  });

  it('refuses a backbone configuration without a token: FP_BAD_CONFIG naming the field', async () => {
    const start = startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port: 0, outDir: await tempDir('notoken') },
      quiet,
    );

    await expect(start).rejects.toMatchObject({
      code: 'FP_BAD_CONFIG',
      message: expect.stringMatching(/token: required/),
    });
  });

  it('rejects an unknown configuration key', async () => {
    const start = startReceiver({ mode: 'baseline', prot: 9000 } as never, quiet);

    await expect(start).rejects.toMatchObject({
      code: 'FP_BAD_CONFIG',
      message: expect.stringMatching(/prot/),
    });
  });

  it('on SIGTERM writes the samples, their summary and its metrics, and exits 0', async () => {
    const agentsDir = await bundleAgent('receiver');
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 300, bookTickerPerSecond: 0 },
    });
    const outDir = await tempDir('sigterm');
    const config = { mode: 'baseline', exchangeUrl: exchange.url, outDir, progressIntervalMs: 100 };
    const { process: proc } = await AgentProcess.start('receiver', 'receiver', config, {
      logDir: join(outDir, 'logs'),
      agentsDir,
    });
    child = proc;
    await waitFor(
      () =>
        proc.events.some(
          (e) =>
            e.event === 'progress' &&
            ((e.paths as Record<string, { samples: number }>).baseline?.samples ?? 0) > 50,
        ),
      '50 samples',
    );

    const done = await proc.stop();
    const code = await proc.exited;

    expect(code).toBe(0);
    const csv = await readCsv(join(outDir, 'baseline-results.csv'));
    const summary = JSON.parse(await readFile(join(outDir, 'baseline-results.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const metrics = JSON.parse(await readFile(join(outDir, 'metrics', 'receiver.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const control = await readCsv(join(outDir, 'control-results.csv'));
    const controlSummary = JSON.parse(await readFile(join(outDir, 'control-results.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(done).toMatchObject({
      reason: 'SIGTERM',
      samples: { baseline: csv.rows.length, control: control.rows.length },
    });
    expect(summary).toMatchObject({ setup_type: 'baseline', sample_count: csv.rows.length, events_lost: 0 });
    // The A/A control is on by default with the baseline: its own file, the same format.
    expect(control.header).toBe(csv.header);
    expect(control.rows.length).toBeGreaterThan(0);
    expect(controlSummary).toMatchObject({ setup_type: 'control', sample_count: control.rows.length });
    expect(metrics).toMatchObject({ agent: 'receiver', counters: { baseline: { total: csv.rows.length } } });
    expect(metrics).toHaveProperty('clock_error_bound_ms');
    expect(Number(metrics.samples)).toBeGreaterThan(0);
  });

  it('records no control with control: false, and none in backbone mode', async () => {
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 200, bookTickerPerSecond: 0 },
    });
    const [off, backbone] = [await tempDir('no-control'), await tempDir('backbone-control')];
    const baseline = await startReceiver(
      { mode: 'baseline', control: false, exchangeUrl: exchange.url, outDir: off },
      quiet,
    );
    const relayOnly = await startReceiver(
      { mode: 'backbone', host: '127.0.0.1', port: 0, token: 't', outDir: backbone },
      quiet,
    );
    await waitFor(() => (baseline.counters().paths.baseline?.samples ?? 0) > 0, 'a baseline sample');

    await baseline.stop('test end');
    await relayOnly.stop('test end');

    expect(baseline.feeds).toEqual(['baseline']);
    expect(relayOnly.feeds).toEqual(['backbone']);
    expect((await readdir(off)).filter((f) => f.startsWith('control'))).toEqual([]);
    expect((await readdir(backbone)).filter((f) => f.startsWith('control'))).toEqual([]);
    expect(baseline.counters().controlFeed).toBeUndefined();
  });

  it("reads the host clock's error bound from chronyc tracking: |offset| + dispersion + delay / 2", () => {
    const output = [
      'Reference ID    : A9FEA97B (169.254.169.123)',
      'Stratum         : 4',
      'System time     : 0.000012345 seconds slow of NTP time',
      'Last offset     : -0.000001234 seconds',
      'Root delay      : 0.000345678 seconds',
      'Root dispersion : 0.000123456 seconds',
      'Leap status     : Normal',
    ].join('\n');

    const bound = parseChronyTracking(output);

    expect(bound).toBeCloseTo(0.012345 + 0.123456 + 0.345678 / 2, 6);
    expect(parseChronyTracking('506 Cannot talk to daemon')).toBeNull();
  });
});

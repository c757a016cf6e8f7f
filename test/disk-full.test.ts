/**
 * A full disk, for real: a small tmpfs mounted for the test (this needs root, as CI and the
 * developers' machines have; elsewhere the tests skip with the reason). A sample file that cannot be
 * written is one FP_DISK_FULL error — never an unhandled rejection — the receiver stops with it, and
 * what reached the disk still analyses.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExchange, type ExchangeHandle } from '../agents/exchange/exchange';
import { startReceiver, type ReceiverHandle } from '../agents/receiver/agent';
import { analyzeCommand } from '../cli/analyze';
import type { FeedpathError } from '../lib/errors';
import { SampleWriter } from '../lib/samples';
import { trade } from './analysis-fixtures';

const quiet = { log: () => undefined, report: () => undefined };

/** Mounts a tmpfs of `size` at a new folder; null (with why) when this machine does not allow it. */
function mountTmpfs(size: string): { dir: string; unmount: () => void } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'feedpath-full-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mount.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: `cannot mount a tmpfs here (${(mount.stderr || mount.error?.message || '').trim()})` };
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const probe = mountTmpfs('64k');
const canMount = 'dir' in probe;
if ('unmount' in probe) probe.unmount();
else console.warn(`disk-full tests skipped: ${probe.reason}`);

(canMount ? describe : describe.skip)('a full disk', () => {
  let disk: { dir: string; unmount: () => void };
  let copy: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  let exchange: ExchangeHandle | undefined;
  let receiver: ReceiverHandle | undefined;

  beforeEach(() => {
    disk = mountTmpfs('96k') as typeof disk;
    copy = mkdtempSync(join(tmpdir(), 'feedpath-full-copy-'));
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    await receiver?.stop('test end').catch(() => undefined);
    await exchange?.stop();
    receiver = undefined;
    exchange = undefined;
    disk.unmount();
    rmSync(copy, { recursive: true, force: true });
  });

  it('stops the sample writer with one FP_DISK_FULL error, and what it wrote still analyses', async () => {
    const errors: FeedpathError[] = [];
    const writer = await SampleWriter.create(join(disk.dir, 'baseline-results.csv'), {
      flushIntervalMs: 5,
      chunkBytes: 4096,
      onError: (error) => errors.push(error),
    });

    for (let id = 1; id <= 20_000 && errors.length === 0; id++) {
      writer.append(trade(id, 115_000 + (id % 7) * 100, { eUs: 1_723_100_000_000_000 + id * 2_000 }));
      if (id % 100 === 0) await writer.flush();
    }
    await writer.close();

    expect(errors.map((e) => e.code)).toEqual(['FP_DISK_FULL']);
    expect(errors[0]?.message).toContain(join(disk.dir, 'baseline-results.csv'));
    expect(unhandled).toEqual([]);
    cpSync(disk.dir, copy, { recursive: true });
    const { report } = await analyzeCommand(copy);
    const summary = report.summaries.baseline;
    expect(summary?.sample_count).toBeGreaterThan(100);
    // A row the disk cut in half is a data error, not a lost event.
    expect(summary?.events_lost).toBe(0);
  });

  it('ends the receiver with FP_DISK_FULL instead of crashing it, keeping the rows written', async () => {
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 2_000, bookTickerPerSecond: 0, burstSize: 0 },
    });
    const outDir = join(disk.dir, 'run');
    mkdirSync(outDir);

    receiver = await startReceiver(
      { mode: 'baseline', exchangeUrl: exchange.url, outDir, flushIntervalMs: 20 },
      quiet,
    );
    let timer: NodeJS.Timeout | undefined;
    const failure = await Promise.race([
      receiver.finished.then(
        () => null,
        (error: unknown) => error as FeedpathError,
      ),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 20_000))),
    ]);
    clearTimeout(timer);
    // Stopping writes the path summaries, which may or may not still fit: either way the CSV stays.
    await receiver.stop('disk full').catch(() => undefined);

    expect(failure?.code).toBe('FP_DISK_FULL');
    expect(unhandled).toEqual([]);
    const rows = readFileSync(join(outDir, 'baseline-results.csv'), 'utf8').split('\n');
    expect(rows.length).toBeGreaterThan(10);
  }, 30_000);
});

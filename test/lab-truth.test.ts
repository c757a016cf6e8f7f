/**
 * The lab's ground truth: what a link emulator applied to each chunk (lib/lab-truth.ts), and the lab
 * check the analysis derives from it (lib/analysis/lab.ts). Fixtures come from the producers: the
 * real link writes its truth file, TruthWriter and SampleWriter write the synthetic ones.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLink } from '../agents/link/proxy';
import { exponentialSampler } from '../agents/link/random';
import { analyzeLab } from '../lib/analysis/lab';
import { readTruth, TruthWriter, truthFileName } from '../lib/lab-truth';
import { deriveSeed, mulberry32 } from '../lib/random';
import { SampleWriter, resultsCsvName } from '../lib/samples';
import { LocalFolderStore } from '../lib/store/local';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'feedpath-lab-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function sink(): Promise<{ port: number; received: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => bytes,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('link ground truth', () => {
  it('records each chunk it carried: the delay drawn, due after read, released at or after due, in order', async () => {
    const target = await sink();
    const truthFile = join(dir, truthFileName('bench'));
    const spec = { delayMs: 5, jitterMs: 2 };
    const link = await startLink({
      name: 'bench',
      target: { port: target.port },
      forward: spec,
      reverse: spec,
      seed: 7,
      truthFile,
    });
    const client = net.connect({ port: link.port, host: '127.0.0.1', noDelay: true });
    await new Promise((resolve) => client.once('connect', resolve));
    let sent = 0;
    for (let i = 0; i < 40; i++) {
      const message = `message ${i} `.padEnd(100, 'x');
      client.write(message);
      sent += message.length;
      // Some writes back to back (they may share a chunk and wait behind one another), some apart.
      if (i % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const deadline = Date.now() + 10_000;
    while (target.received() < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    client.destroy();
    const counters = await link.stop();
    await target.close();

    const truth = readTruth(readFileSync(truthFile, 'utf8'), 0);
    const rows = truth.directions.f;
    expect(truth.badRows).toBe(0);
    expect(rows.count).toBe(counters.forward.chunks);
    expect(rows.bytes.reduce((a, b) => a + b, 0)).toBe(sent);
    // The draws are the link's seeded stream for connection 0, forward: delay + exponential extra.
    const extra = exponentialSampler(spec.jitterMs, mulberry32(deriveSeed(7, 0, 0)));
    for (let i = 0; i < rows.count; i++) {
      const read = rows.readNs[i] as number;
      const due = rows.dueNs[i] as number;
      expect(rows.drawnNs[i]).toBe(Math.round((spec.delayMs + extra()) * 1e6));
      // Due = read + drawn, or later when it waited behind the previous chunk (never earlier).
      // The times are ns since the epoch held in doubles (± a few hundred ns): compare with 1 µs slack.
      expect(due - read).toBeGreaterThanOrEqual((rows.drawnNs[i] as number) - 1_000);
      if (due - read > (rows.drawnNs[i] as number) + 1_000) expect(due).toBe(rows.dueNs[i - 1]);
      expect(rows.releaseNs[i]).toBeGreaterThanOrEqual(due);
      if (i > 0) {
        expect(read).toBeGreaterThanOrEqual(rows.readNs[i - 1] as number);
        expect(due).toBeGreaterThanOrEqual(rows.dueNs[i - 1] as number);
      }
    }
  }, 20_000);
});

describe('lab check', () => {
  const second = 1_800_000_000;
  const ns = (ms: number): bigint => BigInt(second) * 1_000_000_000n + BigInt(Math.round(ms * 1e6));

  it("gives each message its chunk's emulated delay, and the rest of its latency to the lab", async () => {
    // Messages every 10 ms at E = t; the exchange-receiver link reads each 0.1 ms later, applies
    // 20 ms + i µs, releases 0.05 ms late; the receiver stamps 0.2 ms after the release. The lab's
    // overhead is then 0.35 ms for every message, whatever its emulated delay. Messages 8 and 9
    // travel in one chunk (read after both were sent), released in the same batch as message 7's.
    const truth = new TruthWriter(join(dir, truthFileName('exchange-receiver')));
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    for (let i = 0; i < 10; i++) {
      const e = i * 10;
      const inShared = i >= 8;
      const read = inShared ? 80.1 + 10 : e + 0.1;
      const drawn = 20 + i / 1000;
      const due = i === 7 || inShared ? 90.1 + 20.009 : read + drawn;
      const release = due + 0.05;
      if (i !== 8) {
        truth.append({
          connection: 0,
          direction: 'r',
          readNs: ns(read),
          drawnNs: BigInt(Math.round(drawn * 1e6)),
          dueNs: ns(due),
          releaseNs: ns(release),
          bytes: 100,
        });
      }
      csv.append({
        id: 1000 + i,
        stream: 'btcusdt@trade',
        symbol: 'BTCUSDT',
        exchangeTimeUs: second * 1e6 + e * 1000,
        forwarderNs: undefined,
        receiverNs: ns(release + 0.2),
        firstId: undefined,
      });
    }
    await truth.close();
    await csv.close();

    const lab = await analyzeLab(new LocalFolderStore(dir), '');

    const baseline = lab?.overhead.baseline;
    expect(baseline?.matched).toBe(10);
    expect(baseline?.unmatched).toBe(0);
    // Message 7's emulated delay includes its wait until the batch (overhead 0.35 ms like the rest);
    // message 8 was sent at 80 ms but read with message 9 at 90.1 ms: those 10 ms are the lab's.
    expect(baseline?.overhead_ms?.median).toBeCloseTo(0.35, 3);
    expect(baseline?.overhead_ms?.max).toBeCloseTo(10.35, 3);
    expect(lab?.links['exchange-receiver']?.chunks).toBe(9);
    expect(lab?.links['exchange-receiver']?.late_ms?.max).toBeCloseTo(0.05, 3);
    expect(lab?.overhead.backbone).toBeNull();
  });

  it('keeps data errors out of its figures, as every other statistic does', async () => {
    // Three messages, 20 ms emulated and 0.3 ms of lab each; then message 2 recorded again 40 ms
    // later (a duplicate: a data error, not a slower message).
    const truth = new TruthWriter(join(dir, truthFileName('exchange-receiver')));
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    const sample = (i: number, arrivalMs: number) => ({
      id: 2000 + i,
      stream: 'btcusdt@trade',
      symbol: 'BTCUSDT',
      exchangeTimeUs: second * 1e6 + i * 10_000,
      forwarderNs: undefined,
      receiverNs: ns(arrivalMs),
      firstId: undefined,
    });
    for (let i = 0; i < 3; i++) {
      const read = i * 10 + 0.1;
      truth.append({
        connection: 0,
        direction: 'r',
        readNs: ns(read),
        drawnNs: 20_000_000n,
        dueNs: ns(read + 20),
        releaseNs: ns(read + 20),
        bytes: 100,
      });
      csv.append(sample(i, read + 20.2));
    }
    csv.append(sample(2, 20.1 + 20.2 + 40));
    await truth.close();
    await csv.close();

    const lab = await analyzeLab(new LocalFolderStore(dir), '');

    expect(lab?.overhead.baseline?.matched).toBe(3);
    expect(lab?.overhead.baseline?.overhead_ms?.max).toBeCloseTo(0.3, 3);
  });

  it('is absent from a run with no lab files', async () => {
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    csv.append({
      id: 1,
      stream: 'btcusdt@trade',
      symbol: 'BTCUSDT',
      exchangeTimeUs: second * 1e6,
      forwarderNs: undefined,
      receiverNs: ns(5),
      firstId: undefined,
    });
    await csv.close();

    expect(await analyzeLab(new LocalFolderStore(dir), '')).toBeNull();
  });
});

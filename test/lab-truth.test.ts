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
import { analyzeLab } from '../lib/analysis/lab';
import {
  readTruth,
  readTruthClients,
  truthClientsFileName,
  TruthWriter,
  truthFileName,
  type TruthChunk,
} from '../lib/lab-truth';
import { formatRunFile, RUN_FILE } from '../lib/run-file';
import { writeFileSync } from 'node:fs';
import { deriveSeed, exponentialSampler, mulberry32 } from '../lib/random';
import { SampleWriter, resultsCsvName, type Sample } from '../lib/samples';
import { LocalFolderStore } from '../lib/store/local';
import { labTable, withLabClause } from '../lib/report/lab';

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

/**
 * 40 messages of 100 bytes through a link that keeps its truth file, `pauseMs(i)` after message i;
 * waits until the target has them all, then stops the link: its counters, what was sent, the file.
 */
async function carry(
  config: Pick<Parameters<typeof startLink>[0], 'forward' | 'reverse' | 'seed' | 'compensationMs'>,
  pauseMs: (i: number) => number,
) {
  const target = await sink();
  const truthFile = join(dir, truthFileName('bench'));
  const link = await startLink({ name: 'bench', target: { port: target.port }, ...config, truthFile });
  const client = net.connect({ port: link.port, host: '127.0.0.1', noDelay: true });
  await new Promise((resolve) => client.once('connect', resolve));
  let sent = 0;
  for (let i = 0; i < 40; i++) {
    const message = `message ${i} `.padEnd(100, 'x');
    client.write(message);
    sent += message.length;
    const pause = pauseMs(i);
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  const deadline = Date.now() + 10_000;
  while (target.received() < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  client.destroy();
  const counters = await link.stop();
  await target.close();
  return { truthFile, counters, sent };
}

describe('link ground truth', () => {
  it('records each chunk it carried: the delay drawn, due after read, released at or after due, in order', async () => {
    const spec = { delayMs: 5, jitterMs: 2 };
    // Some writes back to back (they may share a chunk and wait behind one another), some apart.
    const { truthFile, counters, sent } = await carry({ forward: spec, reverse: spec, seed: 7 }, (i) =>
      i % 4 === 3 ? 3 : 0,
    );

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

  it("records each connection's client address and port beside the truth", async () => {
    const target = await sink();
    const truthFile = join(dir, truthFileName('bench'));
    const link = await startLink({
      name: 'bench',
      target: { port: target.port },
      forward: { delayMs: 1, jitterMs: 0 },
      reverse: { delayMs: 1, jitterMs: 0 },
      seed: 1,
      truthFile,
    });
    const open = async (): Promise<Socket> => {
      const socket = net.connect({ port: link.port, host: '127.0.0.1' });
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const first = await open();
    const second = await open();
    const ports = [first.localPort, second.localPort];
    const deadline = Date.now() + 10_000;
    const read = () => {
      try {
        return readTruthClients(readFileSync(join(dir, truthClientsFileName('bench')), 'utf8'));
      } catch {
        return [];
      }
    };
    while (read().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.destroy();
    second.destroy();
    await link.stop();
    await target.close();

    expect(read()).toEqual([
      { connection: 0, address: '127.0.0.1', port: ports[0] },
      { connection: 1, address: '127.0.0.1', port: ports[1] },
    ]);
  }, 20_000);

  it('with hop compensation, records what it took off and never releases before read + drawn − compensation', async () => {
    // Delays of 0.5 ms + up to a few ms of jitter against a 1 ms compensation: some are clamped at 0.
    const spec = { delayMs: 0.5, jitterMs: 1 };
    const { truthFile, sent } = await carry(
      { forward: spec, reverse: spec, compensationMs: 1, seed: 3 },
      () => 2,
    );

    const rows = readTruth(readFileSync(truthFile, 'utf8'), 0).directions.f;
    expect(rows.bytes.reduce((a, b) => a + b, 0)).toBe(sent);
    let clamped = 0;
    for (let i = 0; i < rows.count; i++) {
      const read = rows.readNs[i] as number;
      const drawn = rows.drawnNs[i] as number;
      const compensation = rows.compensationNs[i] as number;
      expect(compensation).toBe(Math.min(1_000_000, drawn));
      if (compensation === drawn) clamped += 1;
      // The new guarantee: due (and so the release) no earlier than read + max(0, drawn − 1 ms);
      // 1 µs slack for the doubles the epoch times are held in.
      expect((rows.dueNs[i] as number) - read).toBeGreaterThanOrEqual(Math.max(0, drawn - 1_000_000) - 1_000);
      expect(rows.releaseNs[i]).toBeGreaterThanOrEqual(rows.dueNs[i] as number);
    }
    // exp(−0.5) of the draws are above 1 ms: both cases occur among the chunks.
    expect(clamped).toBeGreaterThan(0);
    expect(clamped).toBeLessThan(rows.count);
  }, 20_000);
});

describe('link truth files', () => {
  it('written before the compensation column existed still read, as compensation 0', () => {
    // The header and a row as links wrote them before `compensation_ns` (the old format, verbatim).
    const old = [
      'connection,direction,read_ns,drawn_ns,due_ns,release_ns,bytes',
      '0,r,1800000000000100000,20000000,1800000000020100000,1800000000020150000,100',
      '',
    ].join('\n');

    const truth = readTruth(old, 1_800_000_000);

    expect(truth.badRows).toBe(0);
    expect(truth.directions.r.count).toBe(1);
    expect(truth.directions.r.compensationNs[0]).toBe(0);
    expect(truth.directions.r.dueNs[0]).toBe(20_100_000);
  });
});

describe('lab check', () => {
  const second = 1_800_000_000;
  const ns = (ms: number): bigint => BigInt(second) * 1_000_000_000n + BigInt(Math.round(ms * 1e6));
  /** A 100-byte chunk the exchange-receiver link carried towards the receiver (times in ms after `second`). */
  const chunk = (c: {
    connection?: number;
    readMs: number;
    drawnMs: number;
    compensationMs?: number;
    dueMs: number;
    releaseMs: number;
  }): TruthChunk => ({
    connection: c.connection ?? 0,
    direction: 'r',
    readNs: ns(c.readMs),
    drawnNs: BigInt(Math.round(c.drawnMs * 1e6)),
    compensationNs: BigInt(Math.round((c.compensationMs ?? 0) * 1e6)),
    dueNs: ns(c.dueMs),
    releaseNs: ns(c.releaseMs),
    bytes: 100,
  });
  /** A baseline trade with its event time `eMs` and the receiver's stamp `arrivalMs` after `second`. */
  const trade = (id: number, eMs: number, arrivalMs: number): Sample => ({
    id,
    stream: 'btcusdt@trade',
    symbol: 'BTCUSDT',
    exchangeTimeUs: second * 1e6 + eMs * 1000,
    forwarderNs: undefined,
    receiverNs: ns(arrivalMs),
    firstId: undefined,
  });

  it("gives each message its chunk's emulated delay, and the rest of its latency to the lab", async () => {
    // Messages every 10 ms at E = t; the exchange-receiver link reads each 0.1 ms later, applies
    // 20 ms + i µs, releases 0.05 ms late; the receiver stamps 0.2 ms after the release. The lab's
    // overhead is then 0.35 ms for every message, whatever its emulated delay. Messages 8 and 9
    // travel in one chunk (read after both were sent), released in the same batch as message 7's.
    const truth = new TruthWriter(join(dir, truthFileName('exchange-receiver')), 'exchange-receiver');
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    for (let i = 0; i < 10; i++) {
      const e = i * 10;
      const inShared = i >= 8;
      const read = inShared ? 80.1 + 10 : e + 0.1;
      const drawn = 20 + i / 1000;
      const due = i === 7 || inShared ? 90.1 + 20.009 : read + drawn;
      const release = due + 0.05;
      if (i !== 8) truth.append(chunk({ readMs: read, drawnMs: drawn, dueMs: due, releaseMs: release }));
      csv.append(trade(1000 + i, e, release + 0.2));
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

  it("shows the links' hop compensation: overhead against what was applied, residual against the profile", async () => {
    // Messages every 10 ms; the link reads each 0.1 ms after E, draws 20 ms, takes 0.25 ms off for
    // the hops (due 19.75 ms after the read), releases 0.05 ms late; the receiver stamps 0.2 ms
    // later. Overhead (measured − applied) = 0.35 ms; residual (measured − drawn) = 0.1 ms.
    const truth = new TruthWriter(join(dir, truthFileName('exchange-receiver')), 'exchange-receiver');
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    for (let i = 0; i < 5; i++) {
      const read = i * 10 + 0.1;
      truth.append(
        chunk({
          readMs: read,
          drawnMs: 20,
          compensationMs: 0.25,
          dueMs: read + 19.75,
          releaseMs: read + 19.8,
        }),
      );
      csv.append(trade(3000 + i, i * 10, read + 20));
    }
    await truth.close();
    await csv.close();

    const lab = await analyzeLab(new LocalFolderStore(dir), '');
    const report = { lab: lab ?? undefined };

    const baseline = lab?.overhead.baseline;
    expect(baseline?.matched).toBe(5);
    expect(baseline?.emulated_ms?.median).toBeCloseTo(19.75, 3);
    expect(baseline?.overhead_ms?.median).toBeCloseTo(0.35, 3);
    expect(baseline?.compensation_ms?.median).toBeCloseTo(0.25, 6);
    expect(baseline?.residual_ms?.median).toBeCloseTo(0.1, 3);
    expect(lab?.links['exchange-receiver']?.compensation_ms?.max).toBeCloseTo(0.25, 6);
    // The report shows both figures, and so does the verdict's clause.
    const table = labTable(report);
    const row = table?.rows[0] as string[];
    const column = (name: string): string => row[table?.head.indexOf(name) ?? -1] as string;
    expect(column('hop compensation')).toMatch(/0\.25/);
    expect(column('residual median')).toMatch(/0\.1/);
    expect(column('overhead median')).toMatch(/0\.35/);
    expect(withLabClause('Baseline only.', report)).toMatch(
      /the lab itself added \+0\.35\d* ms \(baseline\) at the median; after the links' hop compensation the medians are \+0\.1\d* ms \(baseline\) off the profile/,
    );
  });

  it('keeps data errors out of its figures, as every other statistic does', async () => {
    // Three messages, 20 ms emulated and 0.3 ms of lab each; then message 2 recorded again 40 ms
    // later (a duplicate: a data error, not a slower message).
    const truth = new TruthWriter(join(dir, truthFileName('exchange-receiver')), 'exchange-receiver');
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    for (let i = 0; i < 3; i++) {
      const read = i * 10 + 0.1;
      truth.append(chunk({ readMs: read, drawnMs: 20, dueMs: read + 20, releaseMs: read + 20 }));
      csv.append(trade(2000 + i, i * 10, read + 20.2));
    }
    csv.append(trade(2002, 20, 20.1 + 20.2 + 40));
    await truth.close();
    await csv.close();

    const lab = await analyzeLab(new LocalFolderStore(dir), '');

    expect(lab?.overhead.baseline?.matched).toBe(3);
    expect(lab?.overhead.baseline?.overhead_ms?.max).toBeCloseTo(0.3, 3);
  });

  it("matches the baseline's messages to the baseline's connection only, not to the A/A control's on the same link", async () => {
    // Two connections cross exchange-receiver: the control's (link connection 0, client port 50002)
    // draws 20.1 ms and is released 0.1 ms after the baseline's (connection 1, port 50001, 20 ms),
    // still before the receiver stamps the baseline's copy — the last release before the arrival is
    // the control's. Matched by the client port recorded in run.json, the overhead is 0.35 ms.
    const truth = new TruthWriter(join(dir, truthFileName('exchange-receiver')), 'exchange-receiver');
    truth.client(0, '127.0.0.1', 50002);
    truth.client(1, '127.0.0.1', 50001);
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    for (let i = 0; i < 10; i++) {
      const e = i * 10;
      for (const [connection, drawn] of [
        [1, 20],
        [0, 20.1],
      ] as const) {
        truth.append(
          chunk({
            connection,
            readMs: e + 0.1,
            drawnMs: drawn,
            dueMs: e + 0.1 + drawn,
            releaseMs: e + 0.15 + drawn,
          }),
        );
      }
      csv.append(trade(1000 + i, e, e + 20.15 + 0.2));
    }
    await truth.close();
    await csv.close();
    const connection = (feed: 'baseline' | 'control', port: number) => ({
      agent: 'receiver',
      feed,
      ordinal: 1,
      url: 'ws://127.0.0.1:1/ws',
      remote: { address: '127.0.0.1', port: 1 },
      local: { address: '127.0.0.1', port },
      opened_at: new Date(second * 1000).toISOString(),
      closed_at: null,
      close_reason: null,
    });
    const store = new LocalFolderStore(dir);

    // Without run.json's connections (an older run) every chunk of the link is a candidate.
    const mixed = await analyzeLab(store, '');
    expect(mixed?.overhead.baseline?.overhead_ms?.median).toBeCloseTo(0.25, 3);

    writeFileSync(
      join(dir, RUN_FILE),
      formatRunFile({
        runId: 'aa',
        connections: [connection('baseline', 50001), connection('control', 50002)],
      }),
    );
    const lab = await analyzeLab(store, '');
    expect(
      readTruthClients(readFileSync(join(dir, truthClientsFileName('exchange-receiver')), 'utf8')),
    ).toHaveLength(2);
    expect(lab?.overhead.baseline?.matched).toBe(10);
    expect(lab?.overhead.baseline?.overhead_ms?.median).toBeCloseTo(0.35, 3);
    expect(lab?.overhead.baseline?.overhead_ms?.max).toBeCloseTo(0.35, 3);
    // The link's own figures still cover both connections.
    expect(lab?.links['exchange-receiver']?.chunks).toBe(20);
  });

  it('is absent from a run with no lab files', async () => {
    const csv = await SampleWriter.create(join(dir, resultsCsvName('baseline')));
    csv.append(trade(1, 0, 5));
    await csv.close();

    expect(await analyzeLab(new LocalFolderStore(dir), '')).toBeNull();
  });
});

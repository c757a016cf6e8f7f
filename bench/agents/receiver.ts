/**
 * receiver.max_msgs_per_s: the receiver's maximum rate, every message in its CSV, against a plain
 * `ws` client fed by the same generator (ws_reference.client_max_msgs_per_s).
 */
import type { BenchFigure } from '../figures';
import {
  conditionsNow,
  contiguous,
  loadReceiver,
  loadSink,
  num,
  receiverSamples,
  round,
  withRatio,
  withRun,
  type AgentBench,
} from './setup';

interface ReceiverMaxResult {
  sent: number;
  rows: number;
  lost: number | null;
  inOrder: boolean;
  msgsPerS: number;
  overallMsgsPerS: number;
}

/**
 * The receiver's maximum: `count` messages as fast as TCP lets the generator write them, so the
 * receiver is saturated throughout; its rate is read from its own stamps (first tenth left out as
 * warm-up), and every message must be in the CSV.
 */
async function receiverMax(count: number): Promise<ReceiverMaxResult> {
  return withRun('receiver-max', async (dir, procs) => {
    const { gen, receiver } = await loadReceiver(procs, dir, 'frames', { phases: [{ count, rate: 0 }] });
    await gen.waitFor((l) => l.done === true, 'all sent', 60_000);
    const { done, rows } = await receiverSamples(receiver, dir, 'baseline', count, 60_000);
    const status = (done?.paths as Record<string, { lost?: number | null }> | undefined)?.baseline;
    const warm = Math.floor(rows.rows / 10);
    const last = rows.rows - 1;
    return {
      sent: count,
      rows: rows.rows,
      lost: status?.lost ?? null,
      inOrder: contiguous(rows.seq),
      msgsPerS: ((last - warm) * 1e9) / ((rows.arrivalNs[last] ?? 0) - (rows.arrivalNs[warm] ?? 0)),
      overallMsgsPerS: (last * 1e9) / ((rows.arrivalNs[last] ?? NaN) - (rows.arrivalNs[0] ?? NaN)),
    };
  });
}

/** A plain `ws` client (the reference sink) fed by the same generator as {@link receiverMax}. */
async function wsClientMax(count: number): Promise<number> {
  return withRun('ws-client-max', async (_dir, procs) => {
    const { sink } = await loadSink(procs, { phases: [{ count, rate: 0 }] }, { count, timeoutMs: 60_000 });
    const result = await sink.waitFor((l) => 'received' in l, 'sink result', 70_000);
    return num(result.msgsPerS);
  });
}

/** The receiver's maximum and the plain `ws` client's, fed by the same generator. */
export async function benchReceiverMax({ log, ws }: AgentBench): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const wsMax = ws('max_msgs_per_s');
  const maxCount = 500_000;
  log(`receiver: ${maxCount.toLocaleString('en-US')} messages as fast as it takes them…`);
  const rxMax = await receiverMax(maxCount);
  const wsClient: BenchFigure = {
    name: 'ws_reference.client_max_msgs_per_s',
    value: Math.round(await wsClientMax(maxCount)),
    unit: 'msg/s',
    conditions: conditionsNow({
      messages: maxCount,
      what: 'plain ws client (JSON.parse per message) fed by the generator the receiver gets',
    }),
  };
  const rxAllKept = rxMax.rows === rxMax.sent && rxMax.lost === 0 && rxMax.inOrder;
  figures.push(
    wsClient,
    withRatio(
      {
        name: 'receiver.max_msgs_per_s',
        value: Math.round(rxMax.msgsPerS),
        unit: 'msg/s',
        conditions: conditionsNow({
          messages: rxMax.sent,
          csv_rows: rxMax.rows,
          lost: rxMax.lost ?? 'unknown',
          in_order: rxMax.inOrder,
          overall_msgs_per_s: Math.round(rxMax.overallMsgsPerS),
          ratio_to_ws_client: round(rxMax.msgsPerS / wsClient.value, 3),
          what: 'parsed, stamped and written to its CSV; rate from its own stamps after the first tenth',
          generator: 'ready-made frames written in bulk (core 0), receiver on core 1',
        }),
        target: {
          text: '≥ 150,000 msg/s, every message in the CSV',
          met: rxAllKept && rxMax.msgsPerS >= 150_000,
        },
      },
      wsMax,
    ),
  );
  return figures;
}

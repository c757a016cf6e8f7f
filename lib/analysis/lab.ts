/**
 * The lab check of a local run: measured one-way latency minus the delay the link emulators
 * applied (their ground truth, `lab/<link>.csv`, see lib/lab-truth.ts) = the instrument's own
 * overhead, per path and per leg. Absent (null) when the run has no lab files (a cloud run, or a
 * local run with no link emulation).
 *
 * Each message is matched to the link chunk that carried it (lab-matching.ts).
 *
 * Two differences per message, both reported: overhead = measured − emulated (what the lab itself
 * adds on top of what the links applied: loopback hops, processes, lateness), and residual =
 * measured − (emulated + compensation) = measured − the profile's delay for that message (what a
 * user compares with the profile; overhead − compensation). Without compensation they are equal.
 *
 * S and A per leg: exchange → receiver (baseline): S = E, A = frankfurt_time; exchange → forwarder:
 * S = E, A = tokyo_time; forwarder → receiver: S = tokyo_time, A = frankfurt_time. The backbone's
 * emulated delay is the sum of its two legs'; the paired delta's is backbone − baseline per event.
 */
import {
  readTruth,
  readTruthClients,
  selectConnections,
  truthClientsFileName,
  LAB_DIR,
  type TruthDirection,
} from '../lab-truth';
import { RUN_FILE, runFileSchema } from '../run-file';
import { describe } from '../stats';
import { readJsonWith, readText, type ResultsStore } from '../store/store';
import { ArrivalEpoch, type PathColumns } from './path-columns';
import { excludeDataErrors } from './validate';
import { ChunkIndex } from './lab-matching';
import { readResults, type SummaryOptions } from './read';
import { ErrorCode, isFeedpathError } from '../errors';
import { resultsCsvName } from '../samples';

export const LAB_MATCHING =
  "Each message is given the last chunk the link released at or before the far end stamped it (release ≤ arrival), within one release batch the first chunk read at or after the message was sent (read ≥ send); emulated delay = that chunk's due − read (drawn delay + wait behind an earlier chunk − the link's hop compensation); overhead = measured − emulated; residual = measured − (emulated + compensation), i.e. measured − the profile's delay.";

/** Median, p99 and max of a set of values, ms. */
export interface Spread {
  median: number;
  p99: number;
  max: number;
}

export interface LabLeg {
  /** The link(s) whose truth gives the emulated delay. */
  links: string[];
  matched: number;
  unmatched: number;
  ambiguous: number;
  measured_ms: Spread | null;
  emulated_ms: Spread | null;
  /** measured − emulated: what the lab itself (loopback, processes, the emulator's lateness) adds. */
  overhead_ms: Spread | null;
  /** What the links took off the drawn delays for the lab's hops (sum over the leg's links). */
  compensation_ms: Spread | null;
  /** measured − (emulated + compensation) = measured − the profile's delay: what is left. */
  residual_ms: Spread | null;
}

export interface LabLink {
  chunks: number;
  bytes: number;
  bad_rows: number;
  /** release − due: how late the emulator released, ms. */
  late_ms: Spread | null;
  /** due − read: the delay it applied, ms. */
  applied_ms: Spread | null;
  /** What it took off each drawn delay for the lab's hops, ms (0 without compensation). */
  compensation_ms: Spread | null;
}

export interface LabCheck {
  matching: string;
  links: Record<string, LabLink>;
  overhead: {
    baseline: LabLeg | null;
    backbone: LabLeg | null;
    exchange_to_forwarder: LabLeg | null;
    forwarder_to_receiver: LabLeg | null;
    paired_delta: LabLeg | null;
  };
}

function spread(values: number[]): Spread | null {
  const d = describe(Float64Array.from(values));
  return d === null ? null : { median: d.median, p99: d.p99, max: d.max };
}

class LegAccumulator {
  matched = 0;
  unmatched = 0;
  ambiguous = 0;
  measured: number[] = [];
  emulated: number[] = [];
  overhead: number[] = [];
  compensation: number[] = [];
  residual: number[] = [];
  constructor(readonly links: string[]) {}

  /** One message: measured and emulated delay (undefined = no chunk matched) and the compensation, ms. */
  add(measuredMs: number, emulatedMs: number | undefined, ambiguous = false, compensationMs = 0): void {
    if (emulatedMs === undefined) {
      this.unmatched += 1;
      return;
    }
    this.matched += 1;
    if (ambiguous) this.ambiguous += 1;
    this.measured.push(measuredMs);
    this.emulated.push(emulatedMs);
    this.overhead.push(measuredMs - emulatedMs);
    this.compensation.push(compensationMs);
    this.residual.push(measuredMs - emulatedMs - compensationMs);
  }

  result(): LabLeg | null {
    if (this.matched === 0 && this.unmatched === 0) return null;
    return {
      links: this.links,
      matched: this.matched,
      unmatched: this.unmatched,
      ambiguous: this.ambiguous,
      measured_ms: spread(this.measured),
      emulated_ms: spread(this.emulated),
      overhead_ms: spread(this.overhead),
      compensation_ms: spread(this.compensation),
      residual_ms: spread(this.residual),
    };
  }
}

const LEG_LINKS: Record<string, TruthDirection> = {
  // The receiver and the forwarder dial the exchange through their link: data flows target → client.
  'exchange-receiver': 'r',
  'exchange-forwarder': 'r',
  // The forwarder dials the receiver through this link: data flows client → target.
  'forwarder-receiver': 'f',
};

/**
 * The agent connections whose messages a link's leg is about: the exchange-receiver link also
 * carries the A/A control's connection, whose chunks have their own jitter draws and must not be
 * matched to baseline messages.
 */
const LEG_CLIENTS: Record<string, { agent: string; feed: string }> = {
  'exchange-receiver': { agent: 'receiver', feed: 'baseline' },
  'exchange-forwarder': { agent: 'forwarder', feed: 'backbone' },
  'forwarder-receiver': { agent: 'forwarder', feed: 'relay' },
};

/**
 * The link connections (indices) that carried the leg's agent connections, matched by the client's
 * port (the agent's local port in run.json `connections`); null when either record is missing
 * (older runs): then every connection of the link is used.
 */
async function legConnections(
  store: ResultsStore,
  prefix: string,
  link: string,
  run: { connections?: { agent: string; feed: string; local: { port: number } | null }[] } | null,
): Promise<Set<number> | null> {
  const wanted = LEG_CLIENTS[link];
  if (wanted === undefined || run?.connections === undefined) return null;
  const ports = new Set(
    run.connections
      .filter((c) => c.agent === wanted.agent && c.feed === wanted.feed && c.local !== null)
      .map((c) => c.local?.port),
  );
  const text = await readText(store, `${prefix}${truthClientsFileName(link)}`);
  if (ports.size === 0 || text === null) return null;
  const keep = new Set(
    readTruthClients(text)
      .filter((c) => ports.has(c.port))
      .map((c) => c.connection),
  );
  return keep.size === 0 ? null : keep;
}

/** The links' ground-truth files: the folder's own, then the run prefix's for links it lacks. */
async function labKeys(store: ResultsStore, prefix: string, runPrefix: string): Promise<string[]> {
  const csv = async (where: string) =>
    (await store.list(`${where}${LAB_DIR}/`)).filter(
      (k) => k.endsWith('.csv') && !k.endsWith('.clients.csv'),
    );
  const own = await csv(prefix);
  if (runPrefix === prefix) return own;
  const name = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  const names = new Set(own.map(name));
  return [...own, ...(await csv(runPrefix)).filter((k) => !names.has(name(k)))];
}

/**
 * The lab check of the run under `prefix` (ends with `/` or is ''); null when it has no lab files.
 * `runPrefix` is where run.json is, and where a link one receiver's folder lacks is looked for (the
 * exchange-forwarder link serves every receiver of a multi-receiver run); default `prefix`.
 */
export async function analyzeLab(
  store: ResultsStore,
  prefix: string,
  options: SummaryOptions = {},
  runPrefix = prefix,
): Promise<LabCheck | null> {
  const keys = await labKeys(store, prefix, runPrefix);
  if (keys.length === 0) return null;
  const epoch = new ArrivalEpoch();
  // An unreadable results file has no lab check (the analysis names it); any other error is a bug.
  // Data errors stay out of the lab's figures as out of every other statistic.
  const read = async (path: 'baseline' | 'backbone'): Promise<PathColumns | null> => {
    try {
      const columns = await readResults(store, `${prefix}${resultsCsvName(path)}`, { ...options, epoch });
      if (columns !== null) excludeDataErrors(columns);
      return columns;
    } catch (error) {
      if (isFeedpathError(error) && error.code === ErrorCode.badResults) return null;
      throw error;
    }
  };
  const baseline = await read('baseline');
  const backbone = await read('backbone');
  const epochSecond = epoch.second ?? Math.floor(Date.now() / 1000);

  // An unreadable run.json: every connection of each link is used.
  const run = await readJsonWith(store, `${runPrefix}${RUN_FILE}`, runFileSchema);

  const links: Record<string, LabLink> = {};
  const index: Record<string, ChunkIndex> = {};
  for (const key of keys) {
    const name = key.slice(key.lastIndexOf('/') + 1, -'.csv'.length);
    const direction = LEG_LINKS[name];
    const text = await readText(store, key);
    if (text === null || direction === undefined) continue;
    let truth;
    try {
      truth = readTruth(text, epochSecond);
    } catch {
      continue;
    }
    const c = truth.directions[direction];
    const late: number[] = [];
    const applied: number[] = [];
    const compensation: number[] = [];
    let bytes = 0;
    for (let i = 0; i < c.count; i++) {
      late.push(((c.releaseNs[i] as number) - (c.dueNs[i] as number)) / 1e6);
      applied.push(((c.dueNs[i] as number) - (c.readNs[i] as number)) / 1e6);
      compensation.push((c.compensationNs[i] as number) / 1e6);
      bytes += c.bytes[i] as number;
    }
    links[name] = {
      chunks: c.count,
      bytes,
      bad_rows: truth.badRows,
      late_ms: spread(late),
      applied_ms: spread(applied),
      compensation_ms: spread(compensation),
    };
    // The link's clients file lies beside its truth file (the folder's own or the run prefix's).
    const folder = key.slice(0, key.lastIndexOf(`${LAB_DIR}/`));
    const keep = await legConnections(store, folder, name, run);
    index[name] = new ChunkIndex(keep === null ? c : selectConnections(c, keep));
  }

  const er = index['exchange-receiver'];
  const ef = index['exchange-forwarder'];
  const fr = index['forwarder-receiver'];
  const legs = {
    baseline: new LegAccumulator(['exchange-receiver']),
    backbone: new LegAccumulator(['exchange-forwarder', 'forwarder-receiver']),
    exchange_to_forwarder: new LegAccumulator(['exchange-forwarder']),
    forwarder_to_receiver: new LegAccumulator(['forwarder-receiver']),
    paired_delta: new LegAccumulator(['exchange-receiver', 'exchange-forwarder', 'forwarder-receiver']),
  };
  const eventKey = (p: PathColumns, i: number): string =>
    `${p.groups[p.group[i] as number]?.key ?? ''}|${p.seq[i] as number}`;

  /** Baseline events: emulated delay, compensation and arrival, by event key, for the paired delta. */
  const baselineByKey = new Map<string, { emulatedNs: number; compensationNs: number; arrivalNs: number }>();
  if (baseline !== null && er !== undefined) {
    for (let i = 0; i < baseline.rows; i++) {
      const a = baseline.arrivalNs[i] as number;
      const e2e = baseline.e2eMs[i] as number;
      const s = a - e2e * 1e6;
      const m = er.match(s, a);
      if (m !== undefined) baselineByKey.set(eventKey(baseline, i), { ...m, arrivalNs: a });
      if (!Number.isNaN(e2e))
        legs.baseline.add(e2e, m && m.emulatedNs / 1e6, m?.ambiguous, (m?.compensationNs ?? 0) / 1e6);
    }
  }
  if (backbone !== null && ef !== undefined && fr !== undefined && backbone.legMs !== null) {
    for (let i = 0; i < backbone.rows; i++) {
      const a = backbone.arrivalNs[i] as number;
      const e2e = backbone.e2eMs[i] as number;
      const legMs = backbone.legMs[i] as number;
      const tokyo = a - legMs * 1e6;
      const e = a - e2e * 1e6;
      const first = Number.isNaN(e2e) ? undefined : ef.match(e, tokyo);
      const second = Number.isNaN(legMs) ? undefined : fr.match(tokyo, a);
      if (!Number.isNaN(e2e) && !Number.isNaN(legMs)) {
        legs.exchange_to_forwarder.add(
          e2e - legMs,
          first && first.emulatedNs / 1e6,
          first?.ambiguous,
          (first?.compensationNs ?? 0) / 1e6,
        );
      }
      if (!Number.isNaN(legMs)) {
        legs.forwarder_to_receiver.add(
          legMs,
          second && second.emulatedNs / 1e6,
          second?.ambiguous,
          (second?.compensationNs ?? 0) / 1e6,
        );
      }
      const both = first && second ? (first.emulatedNs + second.emulatedNs) / 1e6 : undefined;
      const bothCompensation = ((first?.compensationNs ?? 0) + (second?.compensationNs ?? 0)) / 1e6;
      if (!Number.isNaN(e2e)) {
        const ambiguous = (first?.ambiguous ?? false) || (second?.ambiguous ?? false);
        legs.backbone.add(e2e, both, ambiguous, bothCompensation);
      }
      const other = baselineByKey.get(eventKey(backbone, i));
      if (other !== undefined && both !== undefined) {
        legs.paired_delta.add(
          (a - other.arrivalNs) / 1e6,
          both - other.emulatedNs / 1e6,
          false,
          bothCompensation - other.compensationNs / 1e6,
        );
      }
    }
  }
  return {
    matching: LAB_MATCHING,
    links,
    overhead: {
      baseline: legs.baseline.result(),
      backbone: legs.backbone.result(),
      exchange_to_forwarder: legs.exchange_to_forwarder.result(),
      forwarder_to_receiver: legs.forwarder_to_receiver.result(),
      paired_delta: legs.paired_delta.result(),
    },
  };
}

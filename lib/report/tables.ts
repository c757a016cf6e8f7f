/** The report's tables as rows of text cells, shared by the terminal, report.md and report.html. */
import { SEED_SUMMARY_KEYS, type SeedSummary } from '../analysis/path';
import type { PathName } from '../samples';
import type { Distribution } from '../stats';
import { cell, count, ms, msDigits, percent } from './format';
import type { Report } from './model';

export interface Table {
  head: string[];
  rows: string[][];
  /** Per row, where its cell in `linkColumn` links to (a relative address; null: no link). */
  links?: (string | null)[];
  /** The column whose cells link (default: the first). */
  linkColumn?: number;
  /** How report.html draws it; report.md and the terminal ignore it. */
  html?: TableHtml;
}

/** The HTML-only parts of a table (htmlTable in html.ts). */
export interface TableHtml {
  id?: string;
  className?: string;
  /**
   * Per column, its cells' class instead of the guess from each cell's text ('t': text,
   * left-aligned; '': a number, right-aligned); undefined: guessed.
   */
  columnClasses?: (string | undefined)[];
  /** Per row, the class of its `<tr>` (e.g. `failed`) and a `data-` attribute naming it. */
  rowClasses?: string[];
  rowData?: { name: string; values: string[] };
  /** A wide table (a column per figure) scrolls sideways rather than wraps (`.scroll` in page.ts). */
  scroll?: boolean;
}

function signedCount(value: number): string {
  return value > 0 ? `+${count(value)}` : value < 0 ? `\u2212${count(-value)}` : '0';
}

const EXTRA_KEYS = [
  'p90_latency_ms',
  'p999_latency_ms',
  'latency_sample_count',
  'events_lost_tail',
  'duplicate_events',
  'skipped_rows',
  'data_errors',
] as const;

/** Both paths' summaries side by side: the seed's keys (in its order), then ours. */
export function metricsTable(report: Report): Table {
  const keys: (keyof SeedSummary)[] = [...SEED_SUMMARY_KEYS.filter((k) => k !== 'setup_type'), ...EXTRA_KEYS];
  const { baseline, backbone } = report.summaries;
  const rows = keys.map((key) => {
    const a = baseline?.[key];
    const b = backbone?.[key];
    const diff =
      typeof a === 'number' &&
      typeof b === 'number' &&
      key !== 'sample_count' &&
      key !== 'latency_sample_count'
        ? key.endsWith('_ms')
          ? ms(b - a, { sign: true })
          : signedCount(b - a)
        : '–';
    return [key, baseline ? cell(a, key) : 'n/a', backbone ? cell(b, key) : 'n/a', diff];
  });
  return { head: ['metric', 'baseline', 'backbone', 'backbone − baseline'], rows };
}

/** Distribution rows (ms), one per series. */
export function distributionTable(series: [string, Distribution | null][]): Table {
  return {
    head: ['series', 'count', 'mean', 'median', 'p90', 'p95', 'p99', 'p99.9', 'min', 'max', 'std dev'],
    rows: series
      .filter((s): s is [string, Distribution] => s[1] !== null)
      .map(([name, d]) => [
        name,
        count(d.count),
        ms(d.mean),
        ms(d.median),
        ms(d.p90),
        ms(d.p95),
        ms(d.p99),
        ms(d.p999),
        ms(d.min),
        ms(d.max),
        ms(d.stddev),
      ]),
  };
}

/** The row label of a median delta's interval: its confidence and how it was estimated. */
function intervalLabel(ci: { confidence: number } | null): string {
  return `${ci ? Math.round(ci.confidence * 100) : 95}% CI of the median delta (blocks of receive time)`;
}

/** The paired analysis as label/value rows. */
export function pairedTable(report: Report): Table | null {
  const p = report.paired;
  if (p === null) return null;
  const ci = p.median_delta_ci_ms;
  const digits = msDigits(p.delta_ms?.median, ci?.low, ci?.high);
  return {
    head: ['paired (same receiver clock)', 'value'],
    rows: [
      ['events matched on both paths', count(p.matched)],
      ['seen on baseline only', count(p.baseline_only)],
      ['seen on backbone only', count(p.backbone_only)],
      ['backbone first', percent(p.backbone_first_share)],
      ['baseline first', percent(p.baseline_first_share)],
      ['same ns', percent(p.tie_share)],
      ['median delta (backbone − baseline)', `${ms(p.delta_ms?.median, { sign: true, digits })} ms`],
      [
        intervalLabel(ci),
        ci
          ? `${ms(ci.low)} … ${ms(ci.high)} ms (${ci.blocks} blocks of ${ci.block_seconds.toPrecision(3)} s; design effect ${ci.design_effect.toFixed(1)})`
          : '–',
      ],
      ['significant (CI excludes 0)', p.significant === null ? '–' : p.significant ? 'yes' : 'no'],
      ['mean delta', `${ms(p.delta_ms?.mean, { sign: true })} ms`],
      ['matched events without a receiver time', count(p.matched_without_time)],
    ],
  };
}

/** The A/A control (two direct connections paired) as label/value rows; null without a control file. */
export function controlTable(report: Report): Table | null {
  const c = report.control;
  if (c === null || c === undefined) return null;
  const ci = c.median_delta_ci_ms;
  const digits = msDigits(c.delta_ms?.median, ci?.low, ci?.high);
  return {
    head: ['A/A control: the method’s own noise', 'value'],
    rows: [
      ['control file', c.file],
      ['events matched on both direct connections', count(c.matched)],
      ['seen on baseline only', count(c.baseline_only)],
      ['seen on control only', count(c.control_only)],
      ['control first', percent(c.control_first_share)],
      ['median delta (control − baseline)', `${ms(c.delta_ms?.median, { sign: true, digits })} ms`],
      [
        intervalLabel(ci),
        ci ? `${ms(ci.low, { digits })} … ${ms(ci.high, { digits })} ms (${ci.blocks} blocks)` : '–',
      ],
      [
        'p1 … p99 of the delta',
        `${ms(c.delta_p1_ms, { sign: true })} … ${ms(c.delta_p99_ms, { sign: true })} ms`,
      ],
      [
        'noise (largest |value| in the interval)',
        c.noise_ms === null ? `– (${c.evidence.reason ?? 'no interval'})` : `${ms(c.noise_ms)} ms`,
      ],
      ['data errors in the control file', count(c.data_errors)],
    ],
  };
}

/** The practical-significance threshold, where it came from, and the judgement. */
export function practicalTable(report: Report): Table {
  const p = report.practical;
  const yesNo = (v: boolean | null): string => (v === null ? '–' : v ? 'yes' : 'no');
  return {
    head: ['practical significance', 'value'],
    rows: [
      ['threshold', `${ms(p.threshold_ms)} ms (${p.basis})`],
      ['min difference', `${ms(p.min_difference_ms)} ms (${p.source.min_difference_ms})`],
      ['min share of the median', `${percent(p.min_difference_share)} (${p.source.min_difference_share})`],
      ['median the share is of', p.reference_median_ms === null ? '–' : `${ms(p.reference_median_ms)} ms`],
      ['difference judged (backbone − baseline)', `${ms(p.difference_ms, { sign: true })} ms`],
      ['below the threshold', yesNo(p.below_threshold)],
      ['A/A control noise', p.control_noise_ms === null ? '–' : `${ms(p.control_noise_ms)} ms`],
      ['within the A/A noise', yesNo(p.within_control_noise)],
    ],
  };
}

/** Loss per stream and path. */
export function lossTable(report: Report): Table {
  const rows: string[][] = [];
  for (const path of ['baseline', 'backbone'] as PathName[]) {
    for (const s of report.loss[path]?.per_stream ?? []) {
      rows.push([
        path,
        s.streams.filter((name) => name !== '').join(', ') || '(no stream column)',
        s.kind === null ? 'unknown' : `${s.kind}${s.kind_assumed ? ' (assumed)' : ''}`,
        count(s.events),
        s.events_lost === null ? 'not measurable' : count(s.events_lost),
        s.events_lost === null || s.events_lost_tail === null ? '–' : count(s.events_lost_tail),
        count(s.unreadable_in_gaps),
        count(s.duplicates),
      ]);
    }
  }
  return {
    head: [
      'path',
      'stream',
      'kind',
      'events',
      'lost',
      'of them after its last record',
      'id gaps that are unreadable rows',
      'duplicates',
    ],
    rows,
  };
}

/** Agents' resource use. */
export function resourcesTable(report: Report): Table | null {
  if (report.resources.length === 0) return null;
  const num = (v: unknown, digits: number): string =>
    typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';
  return {
    head: ['agent', 'duration (s)', 'CPU avg %', 'RSS avg MB', 'RSS max MB', 'messages/s avg'],
    rows: report.resources.map((r) => [
      r.agent,
      num(r.duration_s, 1),
      num(r.avg_cpu_pct, 1),
      num(r.avg_rss_mb, 1),
      num(r.max_rss_mb, 1),
      num(r.avg_msgs_per_s, 1),
    ]),
  };
}

/** Host clocks' error bounds. */
export function clockTable(report: Report): Table {
  return {
    head: ['host', 'clock error bound', 'source'],
    rows: (['receiver', 'forwarder'] as const).map((host) => {
      const c = report.clock[host];
      return [host, c.error_bound_ms === null ? 'unknown' : `±${ms(c.error_bound_ms)} ms`, c.source];
    }),
  };
}

/** Files read, data errors by kind, rows skipped and why. */
export function dataQualityTable(report: Report): Table {
  return {
    head: ['path', 'file', 'status', 'rows', 'skipped', 'data errors', 'why'],
    rows: (['baseline', 'backbone'] as PathName[]).map((path) => {
      const f = report.data_quality.files[path];
      const why = Object.entries(f.problem_counts ?? {})
        .map(([reason, n]) => `${reason}: ${count(n)}`)
        .join('; ');
      return [
        path,
        f.file,
        f.message === undefined ? f.status : `${f.status}: ${f.message}`,
        count(f.rows ?? null),
        count(f.skipped_rows ?? null),
        Object.entries(f.data_errors ?? {})
          .map(([kind, e]) => `${kind}: ${count(e.count)}`)
          .join('; ') || '–',
        why || '–',
      ];
    }),
  };
}

/** Flattens the run's metadata (input.json, run.json) into key/value rows. */
export function metadataTable(report: Report): Table | null {
  const rows: string[][] = [];
  const walk = (prefix: string, value: unknown): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(prefix === '' ? k : `${prefix}.${k}`, v);
    } else {
      rows.push([prefix, Array.isArray(value) ? value.map(String).join(', ') : String(value)]);
    }
  };
  if (report.metadata.run !== null) {
    // The connections and the sites have tables of their own (connection-log.ts, sites.ts).
    const { connections: _connections, placement: _placement, ...run } = report.metadata.run;
    walk('run', run);
  }
  if (report.metadata.input !== null) walk('input', report.metadata.input);
  return rows.length === 0 ? null : { head: ['field', 'value'], rows: rows.slice(0, 200) };
}

/** history.html: the trend's headline, its charts, the figures across runs and the table of runs. */
import {
  escapeHtml,
  figure,
  htmlPage,
  htmlSection,
  htmlTable,
  ms,
  msDigits,
  percent,
  type Chart,
  type Section,
  type Table,
} from '../report';
import type { HistogramPercentiles } from '../stats';
import { receiverOf, TREND_FILES, type Trend, type TrendRun } from './trend';

function time(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function pair(a: number | null, b: number | null): string {
  return a === null && b === null ? '–' : `${ms(a)} / ${ms(b)}`;
}

function lost(value: number | null): string {
  return value === null ? '–' : value.toLocaleString('en-US');
}

function deltaCell(r: TrendRun): string {
  if (r.paired_median_delta_ms === null) return '–';
  const digits = msDigits(r.paired_median_delta_ms, r.paired_delta_ci_low_ms, r.paired_delta_ci_high_ms);
  const interval =
    r.paired_delta_ci_low_ms === null || r.paired_delta_ci_high_ms === null
      ? ''
      : ` (${ms(r.paired_delta_ci_low_ms, { digits })} … ${ms(r.paired_delta_ci_high_ms, { digits })})`;
  return `${ms(r.paired_median_delta_ms, { sign: true, digits })}${interval}`;
}

function statusCell(r: TrendRun): string {
  if (r.status !== 'failed') return 'succeeded';
  return `failed${r.error === null ? '' : ` (${r.error})`}${r.cause === null ? '' : `: ${r.cause}`}`;
}

/** The table of runs, newest first: a row per run, its id linking to its report. */
function runsTable(trend: Trend): Table {
  const runs = [...trend.runs].reverse();
  return {
    head: [
      'started (UTC)',
      'run',
      'label',
      'status',
      'mode',
      'regions',
      'streams',
      'median delta ms (95% CI)',
      'backbone first',
      'baseline median / p99 ms',
      'backbone median / p99 ms',
      'lost baseline / backbone',
      'clock bound receiver / forwarder ms',
    ],
    rows: runs.map((r) => [
      time(r.started_at),
      r.run_id,
      r.label ?? '',
      statusCell(r),
      r.mode ?? '–',
      `${r.forwarder_region ?? '?'} → ${receiverOf(r)}`,
      r.streams.join(', '),
      deltaCell(r),
      percent(r.backbone_first_share),
      pair(r.baseline_median_ms, r.baseline_p99_ms),
      pair(r.backbone_median_ms, r.backbone_p99_ms),
      `${lost(r.baseline_lost)} / ${lost(r.backbone_lost)}`,
      pair(r.receiver_clock_error_bound_ms, r.forwarder_clock_error_bound_ms),
    ]),
    links: runs.map((r) => (r.report === null ? null : encodeURI(r.report))),
    linkColumn: 1,
    html: {
      id: 'runs',
      scroll: true,
      // The figures are right-aligned even where a cell holds two; a failed run's status is its cause.
      columnClasses: ['t', 't', 't', 't status', 't', 't', 't', '', '', '', '', '', ''],
      rowClasses: runs.map((r) => r.status),
      rowData: { name: 'run', values: runs.map((r) => r.run_id) },
    },
  };
}

function percentiles(p: HistogramPercentiles | null, sign = false): string {
  return p === null ? '–' : [p.p50, p.p99, p.p999].map((v) => ms(v, { sign })).join(' / ');
}

/** The figures across runs: per configuration overall, then per week; a note for runs left out. */
function mergedSection(trend: Trend): string {
  const groups = [...trend.merged.overall, ...trend.merged.weekly].filter((g) => g.merged_runs > 0);
  const without = trend.merged.runs_without_histograms;
  const note =
    without === 0
      ? ''
      : `<p class="meta" id="merged-note">${without} succeeded run(s) recorded before histograms are in the table of runs but not in these figures.</p>`;
  if (groups.length === 0) return note === '' ? '' : `<h2>Across runs</h2>${note}`;
  const table: Table = {
    head: [
      'configuration',
      'week of',
      'runs merged',
      'matched events',
      'paired delta p50 / p99 / p99.9 ms',
      'baseline p50 / p99 / p99.9 ms',
      'backbone p50 / p99 / p99.9 ms',
    ],
    rows: groups.map((g) => [
      g.series,
      g.week ?? 'all',
      g.merged_runs === g.runs ? `${g.runs}` : `${g.merged_runs} of ${g.runs}`,
      g.paired_delta === null ? '–' : g.paired_delta.count.toLocaleString('en-US'),
      percentiles(g.paired_delta, true),
      percentiles(g.baseline),
      percentiles(g.backbone),
    ]),
    html: { id: 'merged', scroll: true, columnClasses: ['t', 't', '', '', '', '', ''] },
  };
  return [
    `<h2>Across runs</h2>`,
    `<p class="meta">Percentiles of every event of the runs, from their merged histograms (0.5 % precision), not of the runs’ percentiles.</p>`,
    note,
    htmlTable(table),
  ].join('\n');
}

/** The end of the page: the records left out (when any), then how to read the figures. */
function closingSections(trend: Trend): Section[] {
  return [
    {
      id: 'skipped',
      title: 'Skipped records',
      tables: [],
      lists:
        trend.skipped.length === 0
          ? []
          : [{ items: trend.skipped.map((s) => ({ label: s.location, text: s.reason })), code: 'label' }],
    },
    {
      title: 'Definitions',
      tables: [],
      lists: [
        {
          className: 'defs',
          items: [
            'Each point is one run. The paired delta is backbone − baseline arrival of the same exchange event on the receiver’s clock (no clock-synchronisation error); a run’s point is its median, the band its 95% confidence interval (estimated over blocks of receive time).',
            'Median and p99 latencies are one-way (exchange event time E → receiver) and carry the clock error bounds shown in the table.',
            'A run counts as “backbone faster” when its verdict said so: its median delta is below 0, its interval does not span 0, and the difference is at least the practical threshold and beyond the A/A control’s noise (older records: the interval alone).',
            'Figures across runs (the headline’s and “Across runs”) are percentiles of every event of the succeeded runs, read from the sum of their histograms (log-spaced bins, 0.5 % relative precision; lib/stats/histogram.ts): a percentile of the runs’ percentiles is not the percentile of the data. Runs recorded before histograms are left out of them.',
            `Data: ${TREND_FILES.json} (this page’s data), ${TREND_FILES.jsonl} (one record per line), and one record per run under history/year=YYYY/month=MM/day=DD/.`,
          ],
        },
      ],
    },
  ];
}

/** Renders history.html: the headline, the charts, the runs (newest first), the skipped records. */
export function renderTrendHtml(trend: Trend, charts: Chart[]): string {
  // The wide page: the table of runs has a column per figure.
  return htmlPage(
    'feedpath history',
    [
      `<h1>feedpath history</h1>`,
      `<p class="headline" id="headline">${escapeHtml(trend.headline)}</p>`,
      `<p class="meta">History: <code>${escapeHtml(trend.location)}</code> · ${trend.summary.runs} runs · generated ${escapeHtml(trend.generated_at)}</p>`,
      trend.skipped.length === 0
        ? ''
        : `<p class="meta" id="skipped-note">${trend.skipped.length} unreadable history record(s) skipped: see the end of the page.</p>`,
      charts.length === 0 ? '' : `<h2>Trends</h2>`,
      ...charts.map((c) => figure(charts, c.id)),
      mergedSection(trend),
      `<h2>Runs</h2>`,
      trend.runs.length === 0 ? `<p>No run has been recorded yet.</p>` : htmlTable(runsTable(trend)),
      ...closingSections(trend).map((section) => htmlSection(section, charts)),
    ],
    'wide',
  );
}

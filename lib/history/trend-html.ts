/** history.html: the trend's headline, its charts, the figures across runs and the table of runs. */
import { escapeHtml, figure, htmlPage, ms, msDigits, percent, type Chart } from '../report';
import type { HistogramPercentiles } from '../stats';
import type { MergedGroup } from './merged';
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

function runRow(r: TrendRun): string {
  const td = (text: string, className = '') =>
    `<td${className === '' ? '' : ` class="${className}"`}>${escapeHtml(text)}</td>`;
  const run =
    r.report === null
      ? escapeHtml(r.run_id)
      : `<a href="${escapeHtml(encodeURI(r.report))}" title="${escapeHtml(r.report)}">${escapeHtml(r.run_id)}</a>`;
  const status =
    r.status === 'failed'
      ? `<td class="cause">failed${r.error === null ? '' : ` (${escapeHtml(r.error)})`}${r.cause === null ? '' : `: ${escapeHtml(r.cause)}`}</td>`
      : td('succeeded', 't');
  return [
    `<tr class="${r.status}" data-run="${escapeHtml(r.run_id)}">`,
    td(time(r.started_at), 't'),
    `<td class="t">${run}</td>`,
    td(r.label ?? '', 't'),
    status,
    td(r.mode ?? '–', 't'),
    td(`${r.forwarder_region ?? '?'} → ${receiverOf(r)}`, 't'),
    td(r.streams.join(', '), 't'),
    td(deltaCell(r)),
    td(percent(r.backbone_first_share)),
    td(pair(r.baseline_median_ms, r.baseline_p99_ms)),
    td(pair(r.backbone_median_ms, r.backbone_p99_ms)),
    td(`${lost(r.baseline_lost)} / ${lost(r.backbone_lost)}`),
    td(pair(r.receiver_clock_error_bound_ms, r.forwarder_clock_error_bound_ms)),
    `</tr>`,
  ].join('');
}

function percentiles(p: HistogramPercentiles | null, sign = false): string {
  return p === null ? '–' : [p.p50, p.p99, p.p999].map((v) => ms(v, { sign })).join(' / ');
}

function mergedRow(g: MergedGroup): string {
  const cells = [
    g.series,
    g.week ?? 'all',
    g.merged_runs === g.runs ? `${g.runs}` : `${g.merged_runs} of ${g.runs}`,
    g.paired_delta === null ? '–' : g.paired_delta.count.toLocaleString('en-US'),
    percentiles(g.paired_delta, true),
    percentiles(g.baseline),
    percentiles(g.backbone),
  ];
  return `<tr>${cells.map((c, i) => `<td${i < 2 ? ' class="t"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`;
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
  const head = [
    'configuration',
    'week of',
    'runs merged',
    'matched events',
    'paired delta p50 / p99 / p99.9 ms',
    'baseline p50 / p99 / p99.9 ms',
    'backbone p50 / p99 / p99.9 ms',
  ];
  return [
    `<h2>Across runs</h2>`,
    `<p class="meta">Percentiles of every event of the runs, from their merged histograms (0.5 % precision), not of the runs’ percentiles.</p>`,
    note,
    `<div class="scroll"><table id="merged"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${groups.map(mergedRow).join('\n')}\n</tbody></table></div>`,
  ].join('\n');
}

/** Renders history.html: the headline, the charts, the runs (newest first), the skipped records. */
export function renderTrendHtml(trend: Trend, charts: Chart[]): string {
  const head = [
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
  ];
  const rows = [...trend.runs].reverse().map(runRow).join('\n');
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
      trend.runs.length === 0
        ? `<p>No run has been recorded yet.</p>`
        : `<div class="scroll"><table id="runs"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${rows}\n</tbody></table></div>`,
      trend.skipped.length === 0
        ? ''
        : `<h2>Skipped records</h2><ul id="skipped">${trend.skipped
            .map((s) => `<li><code>${escapeHtml(s.location)}</code>: ${escapeHtml(s.reason)}</li>`)
            .join('')}</ul>`,
      `<h2>Definitions</h2>`,
      `<ul class="defs">${[
        'Each point is one run. The paired delta is backbone − baseline arrival of the same exchange event on the receiver’s clock (no clock-synchronisation error); a run’s point is its median, the band its 95% confidence interval (estimated over blocks of receive time).',
        'Median and p99 latencies are one-way (exchange event time E → receiver) and carry the clock error bounds shown in the table.',
        'A run counts as “backbone faster” when its verdict said so: its median delta is below 0, its interval does not span 0, and the difference is at least the practical threshold and beyond the A/A control’s noise (older records: the interval alone).',
        'Figures across runs (the headline’s and “Across runs”) are percentiles of every event of the succeeded runs, read from the sum of their histograms (log-spaced bins, 0.5 % relative precision; lib/stats/histogram.ts): a percentile of the runs’ percentiles is not the percentile of the data. Runs recorded before histograms are left out of them.',
        `Data: ${TREND_FILES.json} (this page’s data), ${TREND_FILES.jsonl} (one record per line), and one record per run under history/year=YYYY/month=MM/day=DD/.`,
      ]
        .map((d) => `<li>${escapeHtml(d)}</li>`)
        .join('')}</ul>`,
    ],
    'wide',
  );
}

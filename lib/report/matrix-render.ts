/**
 * The matrix report for people: report.md and report.html at the run's prefix, one row per receiver
 * linking to its own report, and a chart of each receiver's paired delta with its interval.
 */
import { costNote, costTable } from './cost';
import type { TopLevelSpec } from 'vega-lite';
import { DELTA_COLOR, renderSvg, VEGA_LITE_SCHEMA, zeroRule, type Chart } from './chart-kit';
import { count, ms } from './format';
import { htmlTable } from './html';
import { escapeHtml, figure, htmlPage } from './page';
import { markdownTable } from './markdown';
import type { MatrixReport } from './matrix';
import type { Table } from './tables';

/** The matrix as a table: one row per receiver, its name linking to its report.html (or .md). */
export function matrixTable(report: MatrixReport, link: 'html' | 'markdown' = 'html'): Table {
  const rows = report.matrix.map((r) => {
    const ci = r.median_delta_ci_ms;
    const lost = (n: number | null) => (n === null ? '–' : count(n));
    const bound = r.clock_error_bound_ms;
    return [
      r.region === null || r.region === r.receiver ? r.receiver : `${r.receiver} (${r.region})`,
      ms(r.baseline_median_ms),
      ms(r.baseline_p99_ms),
      ms(r.backbone_median_ms),
      ms(r.backbone_p99_ms),
      ms(r.median_delta_ms, { sign: true }),
      ci === null ? '–' : `${ms(ci.low)} … ${ms(ci.high)}`,
      `${lost(r.events_lost.baseline)} / ${lost(r.events_lost.backbone)}`,
      `±${ms(bound.receiver)} / ±${ms(bound.forwarder)}`,
      r.judgement,
    ];
  });
  return {
    head: [
      'receiver',
      'baseline median (ms)',
      'baseline p99 (ms)',
      'backbone median (ms)',
      'backbone p99 (ms)',
      'paired median delta (ms)',
      '95% CI (ms)',
      'events lost (baseline / backbone)',
      'clock bound (receiver / forwarder, ms)',
      'verdict',
    ],
    rows,
    links: report.matrix.map((r) => report.receivers[r.receiver]?.report[link] ?? null),
  };
}

/** The paired median delta per receiver with its 95% interval; null when no receiver was paired. */
export function matrixDeltaChart(report: MatrixReport): TopLevelSpec | null {
  const values = report.matrix
    .filter((r) => r.median_delta_ms !== null)
    .map((r) => ({
      receiver: r.receiver,
      delta: r.median_delta_ms,
      low: r.median_delta_ci_ms?.low ?? r.median_delta_ms,
      high: r.median_delta_ci_ms?.high ?? r.median_delta_ms,
      verdict: r.judgement,
    }));
  if (values.length === 0) return null;
  const y = { field: 'receiver', type: 'nominal' as const, title: null, sort: null };
  return {
    $schema: VEGA_LITE_SCHEMA,
    width: 640,
    height: Math.max(60, 36 * values.length),
    title: {
      text: 'Paired median delta per receiver (backbone − baseline)',
      subtitle: 'with its 95% interval; left of 0: backbone first',
    },
    layer: [
      {
        data: { values },
        mark: { type: 'rule', strokeWidth: 2, color: DELTA_COLOR },
        encoding: {
          y,
          x: { field: 'low', type: 'quantitative', title: 'median delta (ms)' },
          x2: { field: 'high' },
        },
      },
      {
        data: { values },
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          y,
          x: { field: 'delta', type: 'quantitative' },
          color: { field: 'verdict', type: 'nominal', title: 'verdict' },
        },
      },
      zeroRule('x'),
    ],
  };
}

/** The matrix's charts, rendered to SVG. */
export async function renderMatrixCharts(report: MatrixReport): Promise<Chart[]> {
  const spec = matrixDeltaChart(report);
  return spec === null
    ? []
    : [{ id: 'receivers-delta', title: 'Paired delta per receiver', svg: await renderSvg(spec) }];
}

function warningsList(report: MatrixReport): string[] {
  const failed = Object.entries(report.receivers)
    .filter(([, r]) => r.error !== null)
    .map(([name, r]) => `${name}: ${r.error ?? ''}`);
  return [...failed, ...report.warnings];
}

/** The matrix's report.md. */
export function renderMatrixMarkdown(report: MatrixReport): string {
  const out = [
    `# feedpath report: ${report.matrix.length} receivers\n`,
    `**${report.overall}**\n`,
    `Results: \`${report.location}\` · generated ${report.generated_at} · chart: report.html · each receiver's full report is linked from its row\n`,
    `## Receivers\n\n${markdownTable(matrixTable(report, 'markdown'))}`,
    `## Verdict per receiver\n\n${report.matrix
      .map((r) => `- **${r.receiver}**: ${report.receivers[r.receiver]?.verdict ?? 'not analysed'}`)
      .join('\n')}\n`,
  ];
  const cost = costTable(report.cost);
  if (cost !== null && report.cost)
    out.push(`## What the run cost (estimate)\n\n${markdownTable(cost)}\n${costNote(report.cost)}\n`);
  const warnings = warningsList(report);
  if (warnings.length > 0) out.push(`## Warnings\n\n${warnings.map((w) => `- ${w}`).join('\n')}\n`);
  return `${out.join('\n')}`;
}

/** The matrix's report.html with its chart inline (one self-contained file, as a run's report). */
export function renderMatrixHtml(report: MatrixReport, charts: Chart[]): string {
  const warnings = warningsList(report);
  return htmlPage(`feedpath report: ${report.matrix.length} receivers`, [
    `<h1>feedpath report: ${report.matrix.length} receivers</h1>`,
    `<p class="verdict" id="verdict">${escapeHtml(report.overall)}</p>`,
    `<p class="meta">Results: <code>${escapeHtml(report.location)}</code> · generated ${escapeHtml(report.generated_at)} · each receiver's full report is linked from its row</p>`,
    `<h2>Receivers</h2>`,
    htmlTable(matrixTable(report, 'html'), 'matrix'),
    figure(charts, 'receivers-delta'),
    `<h2>Verdict per receiver</h2>`,
    `<ul>${report.matrix
      .map(
        (r) =>
          `<li><strong>${escapeHtml(r.receiver)}</strong>: ${escapeHtml(report.receivers[r.receiver]?.verdict ?? 'not analysed')}</li>`,
      )
      .join('')}</ul>`,
    report.cost === undefined
      ? ''
      : `<h2 id="cost">What the run cost (estimate)</h2>${htmlTable(costTable(report.cost) as Table)}<p class="meta">${escapeHtml(costNote(report.cost))}</p>`,
    warnings.length === 0
      ? ''
      : `<h2>Warnings</h2><ul>${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`,
  ]);
}

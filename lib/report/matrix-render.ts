/**
 * The matrix report for people: report.md and report.html at the run's prefix, one row per receiver
 * linking to its own report, and a chart of each receiver's paired delta with its interval.
 */
import { costSection } from './cost';
import type { TopLevelSpec } from 'vega-lite';
import { chartHead, DELTA_COLOR, renderChartSpecs, zeroRule, type Chart } from './chart-kit';
import { count, ms } from './format';
import { htmlSection } from './html';
import { escapeHtml, htmlPage } from './page';
import { markdownSections } from './markdown';
import type { MatrixReport } from './matrix';
import type { Section } from './sections';
import type { Table } from './tables';

/** The matrix as a table: one row per receiver, its name linking to its report.html (or .md). */
function matrixTable(report: MatrixReport, link: 'html' | 'markdown' = 'html'): Table {
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
function matrixDeltaChart(report: MatrixReport): TopLevelSpec | null {
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
    ...chartHead(
      { width: 640, height: Math.max(60, 36 * values.length) },
      'Paired median delta per receiver (backbone − baseline)',
      'with its 95% interval; left of 0: backbone first',
    ),
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
  return renderChartSpecs([['receivers-delta', 'Paired delta per receiver', matrixDeltaChart(report)]]);
}

function warningsList(report: MatrixReport): string[] {
  const failed = Object.entries(report.receivers)
    .filter(([, r]) => r.error !== null)
    .map(([name, r]) => `${name}: ${r.error ?? ''}`);
  return [...failed, ...report.warnings];
}

/** The matrix report's sections (sections.ts); its rows link to each receiver's report.html or .md. */
export function matrixSections(report: MatrixReport, link: 'html' | 'markdown'): Section[] {
  const warnings = warningsList(report);
  return [
    {
      title: 'Receivers',
      tables: [{ ...matrixTable(report, link), html: { className: 'matrix' } }],
      charts: ['receivers-delta'],
    },
    {
      title: 'Verdict per receiver',
      tables: [],
      lists: [
        {
          items: report.matrix.map((r) => ({
            label: r.receiver,
            text: report.receivers[r.receiver]?.verdict ?? 'not analysed',
          })),
        },
      ],
    },
    costSection(report.cost),
    { title: 'Warnings', tables: [], lists: warnings.length === 0 ? [] : [{ items: warnings }] },
  ];
}

/** The matrix's report.md. */
export function renderMatrixMarkdown(report: MatrixReport): string {
  return [
    `# feedpath report: ${report.matrix.length} receivers\n`,
    `**${report.overall}**\n`,
    `Results: \`${report.location}\` · generated ${report.generated_at} · chart: report.html · each receiver's full report is linked from its row\n`,
    ...markdownSections(matrixSections(report, 'markdown')),
  ].join('\n');
}

/** The matrix's report.html with its chart inline (one self-contained file, as a run's report). */
export function renderMatrixHtml(report: MatrixReport, charts: Chart[]): string {
  return htmlPage(`feedpath report: ${report.matrix.length} receivers`, [
    `<h1>feedpath report: ${report.matrix.length} receivers</h1>`,
    `<p class="verdict" id="verdict">${escapeHtml(report.overall)}</p>`,
    `<p class="meta">Results: <code>${escapeHtml(report.location)}</code> · generated ${escapeHtml(report.generated_at)} · each receiver's full report is linked from its row</p>`,
    ...matrixSections(report, 'html').map((section) => htmlSection(section, charts)),
  ]);
}

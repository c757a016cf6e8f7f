/**
 * What every HTML page of feedpath shares (the run's report.html, the matrix's report.html, the
 * history's history.html): one self-contained file with one style sheet and the charts inline as
 * captioned SVG figures, no script and no external resource, so it opens offline from S3, an
 * email or a laptop.
 */
import type { Chart } from './chart-kit';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The pages' one style sheet. `.scroll` holds the history's wide tables (one row per run): denser,
 * one line per cell, scrolled sideways rather than wrapped.
 */
const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.45}
body.wide{max-width:1200px}
h1{font-size:1.5rem;margin-bottom:.3rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.verdict,.headline{font-size:1.15rem;background:#f3f7f4;border-left:4px solid #1b9e77;padding:.8rem 1rem;margin:1rem 0}
.headline{font-size:1.1rem}
.meta{color:#666;font-size:.9rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child,td.t{text-align:left}
thead th{background:#f5f5f5}
table.metrics td:nth-child(2){color:#b34a00}table.metrics td:nth-child(3){color:#137a5e}
.scroll{overflow-x:auto}.scroll table{font-size:.85rem}
.scroll th,.scroll td{padding:.2rem .5rem;vertical-align:top;white-space:nowrap}
.scroll th{white-space:normal;min-width:4rem;text-align:right}
tr.failed td{background:#fdf0f0}tr.failed td.status{color:#a11;min-width:16rem;max-width:28rem;text-align:left;white-space:normal}
figure.chart{margin:1rem 0}figure.chart svg{max-width:100%;height:auto}
figcaption{color:#666;font-size:.85rem}
ul.defs{font-size:.9rem;color:#444}
`;

/** The chart `id` as a captioned figure; '' when the page has no such chart (no data for it). */
export function figure(charts: readonly Chart[], id: string): string {
  const chart = charts.find((c) => c.id === id);
  if (chart === undefined) return '';
  return `<figure class="chart" data-chart="${escapeHtml(chart.id)}">${chart.svg}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`;
}

/** A whole page: its title, then its parts in order ('' parts are left out), one per line. */
export function htmlPage(title: string, parts: readonly string[], bodyClass = ''): string {
  const body = bodyClass === '' ? '<body>' : `<body class="${bodyClass}">`;
  return `${[
    `<!doctype html>`,
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${title}</title><style>${STYLE}</style></head>${body}`,
    ...parts.filter((p) => p !== ''),
    `</body></html>`,
  ].join('\n')}\n`;
}

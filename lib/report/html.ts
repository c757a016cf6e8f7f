/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no external resource), so it
 * opens offline from S3, an email or a laptop (the page's frame and style: page.ts).
 */
import type { Chart } from './chart-kit';
import { escapeHtml, figure, htmlPage } from './page';
import type { Report } from './model';
import { sitesTable } from './sites';
import { costNote, costTable } from './cost';
import { connectionLogTable } from './connection-log';
import {
  clockTable,
  dataQualityTable,
  distributionTable,
  lossTable,
  metadataTable,
  metricsTable,
  pairedTable,
  practicalTable,
  resourcesTable,
  controlTable,
  type Table,
} from './tables';
import { labNote, labTable } from './lab';
import { connectionsNote, connectionsTable } from './connections';
import { firstCopyNote, firstCopyTable } from './first-copy';
import { marketNote, marketStateNote, marketStateTable, marketTable } from './market';

/** Cells that read as numbers are right-aligned; text is left-aligned. */
const NUMERIC = /^[-+−±–]?[\d.,]+( ?(ms|%))?$|^–$/;

/** A table as HTML; a row's first cell links where `t.links` says. */
export function htmlTable(t: Table, className = ''): string {
  const head = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const content = (c: string, link: string | null | undefined) =>
    link === null || link === undefined
      ? escapeHtml(c)
      : `<a href="${escapeHtml(link)}">${escapeHtml(c)}</a>`;
  const rows = t.rows
    .map(
      (r, i) =>
        `<tr>${r.map((c, j) => `<td${NUMERIC.test(c) ? '' : ' class="t"'}>${content(c, j === 0 ? t.links?.[i] : null)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table class="${className}"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The market context and the latency by market state (lib/report/market.ts); '' without them. */
function marketSection(report: Report): string {
  const market = marketTable(report);
  if (market === null) return '';
  const byState = marketStateTable(report);
  return [
    `<h2 id="market">Market context</h2>${htmlTable(market)}<p class="meta">${escapeHtml(marketNote(report) ?? '')}</p>`,
    byState === null
      ? ''
      : `<h2 id="market-state">Latency by market state</h2>${htmlTable(byState)}<p class="meta">${escapeHtml(marketStateNote(report) ?? '')}</p>`,
  ].join('');
}

/** Renders report.html with the charts' SVG inline. */
export function renderHtml(report: Report, charts: Chart[]): string {
  const problems = Object.values(report.data_quality.files).flatMap((f) => f.problems ?? []);
  const paired = pairedTable(report);
  const control = controlTable(report);
  const byConnection = connectionsTable(report);
  const firstCopy = firstCopyTable(report);
  const resources = resourcesTable(report);
  const metadata = metadataTable(report);
  const lab = labTable(report);
  const sites = sitesTable(report);
  const connectionLog = connectionLogTable(report);
  return htmlPage('feedpath report', [
    `<h1>feedpath report</h1>`,
    `<p class="verdict" id="verdict">${escapeHtml(report.verdict)}</p>`,
    `<p class="meta">Results: <code>${escapeHtml(report.location)}</code> · comparison: ${escapeHtml(report.comparison)} · generated ${escapeHtml(report.generated_at)}</p>`,
    `<h2>Summary (the seed experiment’s keys)</h2>`,
    htmlTable(metricsTable(report), 'metrics'),
    `<h2>Latency</h2>`,
    figure(charts, 'latency-histogram'),
    figure(charts, 'latency-cdf'),
    figure(charts, 'latency-over-time'),
    marketSection(report),
    paired === null ? '' : `<h2>Paired analysis</h2>${htmlTable(paired)}${figure(charts, 'paired-delta')}`,
    control === null ? '' : `<h2 id="control">A/A control: the method’s own noise</h2>${htmlTable(control)}`,
    `<h2 id="practical">Practical significance</h2>${htmlTable(practicalTable(report))}<p class="meta">${escapeHtml(report.practical.rule)}</p>`,
    byConnection === null
      ? ''
      : `<h2>Paired delta by connection</h2>${htmlTable(byConnection)}<p class="meta">${escapeHtml(connectionsNote(report) ?? '')}</p>`,
    firstCopy === null
      ? ''
      : `<h2>The earlier copy (both paths)</h2><p>${escapeHtml(firstCopyNote(report) ?? '')}</p>${htmlTable(firstCopy)}`,
    `<h2>Distributions (ms)</h2>`,
    htmlTable(
      distributionTable([
        ['baseline end-to-end', report.latency_ms.baseline],
        ['backbone end-to-end', report.latency_ms.backbone],
        ['paired delta (backbone − baseline)', report.paired?.delta_ms ?? null],
        ['backbone leg: exchange → forwarder', report.legs_ms.exchange_to_forwarder],
        ['backbone leg: forwarder → receiver', report.legs_ms.forwarder_to_receiver],
      ]),
    ),
    lab === null
      ? ''
      : `<h2>Lab check (ms)</h2>${htmlTable(lab)}<p class="meta">${escapeHtml(labNote(report) ?? '')}</p>`,
    `<h2>Loss</h2>`,
    htmlTable(lossTable(report)),
    figure(charts, 'loss'),
    `<h2>Agents’ resource use</h2>`,
    resources === null
      ? `<p>No agent metrics were found (metrics/&lt;agent&gt;.json).</p>`
      : htmlTable(resources),
    figure(charts, 'resources'),
    sites === null ? '' : `<h2>Sites</h2>${htmlTable(sites)}`,
    report.cost === undefined
      ? ''
      : `<h2 id="cost">What the run cost (estimate)</h2>${htmlTable(costTable(report.cost) as Table)}<p class="meta">${escapeHtml(costNote(report.cost))}</p>`,
    connectionLog === null ? '' : `<h2 id="connections">Connections</h2>${htmlTable(connectionLog)}`,
    `<h2>Clocks</h2>`,
    htmlTable(clockTable(report)),
    `<p class="meta">${escapeHtml(report.clock.note)}</p>`,
    `<h2>Data quality</h2>`,
    htmlTable(dataQualityTable(report)),
    problems.length === 0
      ? ''
      : `<p>First problem rows:</p><ul>${problems.map((p) => `<li><code>${escapeHtml(p.message)}</code></li>`).join('')}</ul>`,
    report.data_quality.warnings.length === 0
      ? ''
      : `<p>Warnings:</p><ul>${report.data_quality.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>`,
    `<h2>Run metadata</h2>`,
    metadata === null ? `<p>No input.json or run.json was found.</p>` : htmlTable(metadata),
    `<h2>Definitions</h2>`,
    `<ul class="defs">${[
      report.statistics.percentile_definition,
      report.statistics.stddev_definition,
      `Confidence interval: ${report.statistics.bootstrap}.`,
      report.statistics.charts,
    ]
      .map((d) => `<li>${escapeHtml(d)}</li>`)
      .join('')}</ul>`,
  ]);
}

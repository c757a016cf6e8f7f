/** report.md: the report for people who read it in a terminal or a repository. */
import { connectionsNote, connectionsTable } from './connections';
import { firstCopyNote, firstCopyTable } from './first-copy';
import { marketNote, marketStateNote, marketStateTable, marketTable } from './market';
import { labNote, labTable } from './lab';
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

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(table: Table): string {
  const lines = [
    `| ${table.head.map(escape).join(' | ')} |`,
    `| ${table.head.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row, i) => {
      const link = table.links?.[i];
      const cells = row.map(escape);
      if (link !== null && link !== undefined && cells.length > 0) cells[0] = `[${cells[0]}](${link})`;
      return `| ${cells.join(' | ')} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/** Renders report.md. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const section = (title: string, body: string | null): void => {
    if (body !== null) out.push(`## ${title}\n\n${body}`);
  };
  out.push(`# feedpath report\n\n**${escape(report.verdict)}**\n`);
  out.push(
    `Results: \`${report.location}\` · comparison: ${report.comparison} · generated ${report.generated_at} · charts: report.html\n`,
  );
  section('Summary (the seed experiment’s keys)', markdownTable(metricsTable(report)));
  const market = marketTable(report);
  section('Market context', market === null ? null : `${markdownTable(market)}\n${marketNote(report)}\n`);
  const byState = marketStateTable(report);
  section(
    'Latency by market state',
    byState === null ? null : `${markdownTable(byState)}\n${marketStateNote(report)}\n`,
  );
  const paired = pairedTable(report);
  section('Paired analysis', paired === null ? null : markdownTable(paired));
  const control = controlTable(report);
  section('A/A control: the method’s own noise', control === null ? null : markdownTable(control));
  section('Practical significance', `${markdownTable(practicalTable(report))}\n${report.practical.rule}\n`);
  const byConnection = connectionsTable(report);
  section(
    'Paired delta by connection',
    byConnection === null ? null : `${markdownTable(byConnection)}\n${connectionsNote(report)}\n`,
  );
  const firstCopy = firstCopyTable(report);
  section(
    'The earlier copy (both paths)',
    firstCopy === null ? null : `${firstCopyNote(report)}\n\n${markdownTable(firstCopy)}`,
  );
  section(
    'Distributions (ms)',
    markdownTable(
      distributionTable([
        ['baseline end-to-end', report.latency_ms.baseline],
        ['backbone end-to-end', report.latency_ms.backbone],
        ['paired delta (backbone − baseline)', report.paired?.delta_ms ?? null],
        ['backbone leg: exchange → forwarder', report.legs_ms.exchange_to_forwarder],
        ['backbone leg: forwarder → receiver', report.legs_ms.forwarder_to_receiver],
      ]),
    ),
  );
  const lab = labTable(report);
  section('Lab check (ms)', lab === null ? null : `${markdownTable(lab)}\n${labNote(report)}\n`);
  section('Loss per stream', markdownTable(lossTable(report)));
  const sites = sitesTable(report);
  section('Sites', sites === null ? null : markdownTable(sites));
  const cost = costTable(report.cost);
  section(
    'What the run cost (estimate)',
    cost === null || !report.cost ? null : `${markdownTable(cost)}\n${costNote(report.cost)}\n`,
  );
  const connectionLog = connectionLogTable(report);
  section('Connections', connectionLog === null ? null : markdownTable(connectionLog));
  section('Clocks', `${markdownTable(clockTable(report))}\n${report.clock.note}\n`);
  const resources = resourcesTable(report);
  section(
    "Agents' resource use",
    resources === null ? 'No agent metrics were found (metrics/<agent>.json).\n' : markdownTable(resources),
  );
  const problems = Object.values(report.data_quality.files).flatMap((f) => f.problems ?? []);
  section(
    'Data quality',
    markdownTable(dataQualityTable(report)) +
      (problems.length > 0
        ? `\nFirst problem rows:\n\n${problems.map((p) => `- ${escape(p.message)}`).join('\n')}\n`
        : '') +
      (report.data_quality.warnings.length > 0
        ? `\nWarnings:\n\n${report.data_quality.warnings.map((w) => `- ${escape(w)}`).join('\n')}\n`
        : ''),
  );
  const metadata = metadataTable(report);
  section(
    'Run metadata',
    metadata === null ? 'No input.json or run.json was found.\n' : markdownTable(metadata),
  );
  section(
    'Definitions',
    [
      report.statistics.percentile_definition,
      report.statistics.stddev_definition,
      `Confidence interval: ${report.statistics.bootstrap}.`,
      report.statistics.charts,
    ]
      .map((line) => `- ${line}`)
      .join('\n') + '\n',
  );
  return `${out.join('\n')}`;
}

/**
 * The report's sections, in page order, as data: report.md (markdown.ts) and report.html (html.ts)
 * render this one list, so both say the same in the same order. A new section is a table function
 * (tables.ts or a file of its own) and one entry here.
 */
import { connectionLogTable } from './connection-log';
import { connectionsNote, connectionsTable } from './connections';
import { costSection } from './cost';
import { firstCopyNote, firstCopyTable } from './first-copy';
import { labNote, labTable } from './lab';
import { marketNote, marketStateNote, marketStateTable, marketTable } from './market';
import type { Report } from './model';
import { sitesTable } from './sites';
import {
  clockTable,
  controlTable,
  dataQualityTable,
  distributionTable,
  lossTable,
  metadataTable,
  metricsTable,
  pairedTable,
  practicalTable,
  resourcesTable,
  type Table,
} from './tables';

/** A bulleted list under a section's tables, with the line that leads into it. */
export interface SectionList {
  intro?: string;
  /** A plain item, or one whose label is set in bold (e.g. a receiver's name). */
  items: (string | { label: string; text: string })[];
  /**
   * report.html only: the items are quoted input (a problem row's message), set as code; `label`:
   * only their labels are (a file's location before what is wrong with it).
   */
  code?: boolean | 'label';
  /** report.html only: the list's class (`defs`: the small print of the definitions). */
  className?: string;
}

/**
 * One section: a heading, then in this order its intro, its tables (or `missing`), its charts, its
 * note and its lists. A section with no table, no list and no drawn chart says `missing` when it
 * has one and is left out otherwise (e.g. the A/A control of a run without one).
 */
export interface Section {
  /** The heading's anchor in report.html (`report.html#control`); only where something links to it. */
  id?: string;
  title: string;
  /** A paragraph before the tables. */
  intro?: string | null;
  tables: Table[];
  /** report.html only: the charts under the tables, by chart id (charts.ts); those not drawn are skipped. */
  charts?: string[];
  /** The small print under the tables: how to read them, where the figures come from. */
  note?: string | null;
  lists?: SectionList[];
  /** Said in place of the tables when there is none. */
  missing?: string;
}

/** The tables that are there (a table function returns null when its data is absent). */
function present(...tables: (Table | null)[]): Table[] {
  return tables.filter((t): t is Table => t !== null);
}

/** Whether a section is drawn: it has a table, a list or a drawn chart, or says what is missing. */
export function sectionShown(section: Section, drawnCharts: readonly string[] = []): boolean {
  return (
    section.tables.length > 0 ||
    (section.lists ?? []).length > 0 ||
    (section.charts ?? []).some((id) => drawnCharts.includes(id)) ||
    section.missing !== undefined
  );
}

/** Every section of a run's report, in page order. */
export function reportSections(report: Report): Section[] {
  const problems = Object.values(report.data_quality.files).flatMap((f) => f.problems ?? []);
  const warnings = report.data_quality.warnings;
  return [
    {
      title: 'Summary (the seed experiment’s keys)',
      tables: [{ ...metricsTable(report), html: { className: 'metrics' } }],
    },
    { title: 'Latency', tables: [], charts: ['latency-histogram', 'latency-cdf', 'latency-over-time'] },
    { id: 'market', title: 'Market context', tables: present(marketTable(report)), note: marketNote(report) },
    {
      id: 'market-state',
      title: 'Latency by market state',
      tables: present(marketStateTable(report)),
      note: marketStateNote(report),
    },
    { title: 'Paired analysis', tables: present(pairedTable(report)), charts: ['paired-delta'] },
    { id: 'control', title: 'A/A control: the method’s own noise', tables: present(controlTable(report)) },
    {
      id: 'practical',
      title: 'Practical significance',
      tables: [practicalTable(report)],
      note: report.practical.rule,
    },
    {
      title: 'Paired delta by connection',
      tables: present(connectionsTable(report)),
      note: connectionsNote(report),
    },
    {
      title: 'The earlier copy (both paths)',
      intro: firstCopyNote(report),
      tables: present(firstCopyTable(report)),
    },
    {
      title: 'Distributions (ms)',
      tables: [
        distributionTable([
          ['baseline end-to-end', report.latency_ms.baseline],
          ['backbone end-to-end', report.latency_ms.backbone],
          ['paired delta (backbone − baseline)', report.paired?.delta_ms ?? null],
          ['backbone leg: exchange → forwarder', report.legs_ms.exchange_to_forwarder],
          ['backbone leg: forwarder → receiver', report.legs_ms.forwarder_to_receiver],
        ]),
      ],
    },
    { title: 'Lab check (ms)', tables: present(labTable(report)), note: labNote(report) },
    { title: 'Loss', tables: [lossTable(report)], charts: ['loss'] },
    {
      title: 'Agents’ resource use',
      tables: present(resourcesTable(report)),
      charts: ['resources'],
      missing: 'No agent metrics were found (metrics/<agent>.json).',
    },
    { title: 'Sites', tables: present(sitesTable(report)) },
    costSection(report.cost),
    { id: 'connections', title: 'Connections', tables: present(connectionLogTable(report)) },
    { title: 'Clocks', tables: [clockTable(report)], note: report.clock.note },
    {
      title: 'Data quality',
      tables: [dataQualityTable(report)],
      lists: [
        { intro: 'First problem rows:', items: problems.map((p) => p.message), code: true },
        { intro: 'Warnings:', items: warnings },
      ].filter((list) => list.items.length > 0),
    },
    {
      title: 'Run metadata',
      tables: present(metadataTable(report)),
      missing: 'No input.json or run.json was found.',
    },
    {
      title: 'Definitions',
      tables: [],
      lists: [
        {
          items: [
            report.statistics.percentile_definition,
            report.statistics.stddev_definition,
            `Confidence interval: ${report.statistics.bootstrap}.`,
            report.statistics.charts,
          ],
          className: 'defs',
        },
      ],
    },
  ];
}

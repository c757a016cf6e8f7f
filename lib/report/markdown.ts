/** report.md: the report for people who read it in a terminal or a repository (sections.ts, as report.html). */
import type { Report } from './model';
import { reportSections, sectionShown, type Section, type SectionList } from './sections';
import type { Table } from './tables';

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** A table as Markdown; a row's cell in `table.linkColumn` (default the first) links where `table.links` says. */
export function markdownTable(table: Table): string {
  const linkColumn = table.linkColumn ?? 0;
  const lines = [
    `| ${table.head.map(escape).join(' | ')} |`,
    `| ${table.head.map(() => '---').join(' | ')} |`,
    ...table.rows.map((row, i) => {
      const link = table.links?.[i];
      const cells = row.map(escape);
      if (link !== null && link !== undefined && linkColumn < cells.length)
        cells[linkColumn] = `[${cells[linkColumn]}](${link})`;
      return `| ${cells.join(' | ')} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

function markdownList(list: SectionList): string {
  const item = (i: SectionList['items'][number]) => {
    const text = escape(typeof i === 'string' ? i : i.text);
    return `- ${typeof i === 'string' ? '' : `**${escape(i.label)}**: `}${text}`;
  };
  return `${list.intro === undefined ? '' : `${list.intro}\n\n`}${list.items.map(item).join('\n')}\n`;
}

/** One section (sections.ts) as Markdown; '' when it has nothing to show (charts are report.html's). */
function markdownSection(section: Section): string {
  if (!sectionShown(section)) return '';
  const { intro, note, missing } = section;
  const blocks = [
    intro === null || intro === undefined ? null : `${intro}\n`,
    ...section.tables.map(markdownTable),
    section.tables.length === 0 && missing !== undefined ? `${missing}\n` : null,
    note === null || note === undefined ? null : `${note}\n`,
    ...(section.lists ?? []).map(markdownList),
  ].filter((b): b is string => b !== null);
  return `## ${section.title}\n\n${blocks.join('\n')}`;
}

/** Sections as Markdown, one after the other; those with nothing to show are left out. */
export function markdownSections(sections: readonly Section[]): string[] {
  return sections.map(markdownSection).filter((s) => s !== '');
}

/** Renders report.md. */
export function renderMarkdown(report: Report): string {
  return [
    `# feedpath report\n\n**${escape(report.verdict)}**\n`,
    `Results: \`${report.location}\` · comparison: ${report.comparison} · generated ${report.generated_at} · charts: report.html\n`,
    ...markdownSections(reportSections(report)),
  ].join('\n');
}

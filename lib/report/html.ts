/**
 * report.html: one self-contained file (inline CSS and SVG, no script, no external resource), so it
 * opens offline from S3, an email or a laptop (the page's frame and style: page.ts). It renders the
 * sections of sections.ts, as report.md does.
 */
import type { Chart } from './chart-kit';
import { escapeHtml, figure, htmlPage } from './page';
import type { Report } from './model';
import { reportSections, sectionShown, type Section, type SectionList } from './sections';
import type { Table } from './tables';

/** Cells that read as numbers are right-aligned; text is left-aligned. */
const NUMERIC = /^[-+−±–]?[\d.,]+( ?(ms|%))?$|^–$/;

function attribute(name: string, value: string | undefined): string {
  return value === undefined || value === '' ? '' : ` ${name}="${escapeHtml(value)}"`;
}

/** A table as HTML; a row's cell in `t.linkColumn` (default the first) links where `t.links` says. */
export function htmlTable(t: Table): string {
  const html = t.html ?? {};
  const linkColumn = t.linkColumn ?? 0;
  const head = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const content = (c: string, link: string | null | undefined) =>
    link === null || link === undefined
      ? escapeHtml(c)
      : `<a href="${escapeHtml(link)}">${escapeHtml(c)}</a>`;
  const cellClass = (c: string, j: number) => html.columnClasses?.[j] ?? (NUMERIC.test(c) ? '' : 't');
  const rows = t.rows
    .map((r, i) => {
      const tr = `<tr${attribute('class', html.rowClasses?.[i])}${html.rowData === undefined ? '' : attribute(`data-${html.rowData.name}`, html.rowData.values[i])}>`;
      const cells = r.map(
        (c, j) =>
          `<td${attribute('class', cellClass(c, j))}>${content(c, j === linkColumn ? t.links?.[i] : null)}</td>`,
      );
      return `${tr}${cells.join('')}</tr>`;
    })
    .join('\n');
  const table = `<table${attribute('id', html.id)}${attribute('class', html.className)}><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
  return html.scroll === true ? `<div class="scroll">${table}</div>` : table;
}

function htmlList(list: SectionList): string {
  const item = (i: SectionList['items'][number]) => {
    const text = escapeHtml(typeof i === 'string' ? i : i.text);
    const body = list.code === true ? `<code>${text}</code>` : text;
    if (typeof i === 'string') return `<li>${body}</li>`;
    const label = escapeHtml(i.label);
    return `<li>${list.code === 'label' ? `<code>${label}</code>` : `<strong>${label}</strong>`}: ${body}</li>`;
  };
  const intro = list.intro === undefined ? '' : `<p>${escapeHtml(list.intro)}</p>`;
  return `${intro}<ul${attribute('class', list.className)}>${list.items.map(item).join('')}</ul>`;
}

/** One section (sections.ts) as HTML; '' when it has nothing to show. */
export function htmlSection(section: Section, charts: readonly Chart[]): string {
  if (
    !sectionShown(
      section,
      charts.map((c) => c.id),
    )
  )
    return '';
  const { intro, note, missing } = section;
  return [
    `<h2${attribute('id', section.id)}>${escapeHtml(section.title)}</h2>`,
    intro === null || intro === undefined ? '' : `<p>${escapeHtml(intro)}</p>`,
    ...section.tables.map(htmlTable),
    section.tables.length === 0 && missing !== undefined ? `<p>${escapeHtml(missing)}</p>` : '',
    ...(section.charts ?? []).map((id) => figure(charts, id)),
    note === null || note === undefined ? '' : `<p class="meta">${escapeHtml(note)}</p>`,
    ...(section.lists ?? []).map(htmlList),
  ].join('');
}

/** Renders report.html with the charts' SVG inline. */
export function renderHtml(report: Report, charts: Chart[]): string {
  return htmlPage('feedpath report', [
    `<h1>feedpath report</h1>`,
    `<p class="verdict" id="verdict">${escapeHtml(report.verdict)}</p>`,
    `<p class="meta">Results: <code>${escapeHtml(report.location)}</code> · comparison: ${escapeHtml(report.comparison)} · generated ${escapeHtml(report.generated_at)}</p>`,
    ...reportSections(report).map((section) => htmlSection(section, charts)),
  ]);
}

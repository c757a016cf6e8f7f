/**
 * What every report's charts share (the run's, the matrix's, the history's): the colours, the
 * dashed zero line a delta is read against, and the rendering of a vega-lite spec to static SVG
 * (no script in the page, so it opens offline anywhere).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface Chart {
  id: string;
  title: string;
  svg: string;
}

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** One colour per path, the same in every chart of every report. */
export const PATH_COLORS = { domain: ['baseline', 'backbone'], range: ['#d95f02', '#1b9e77'] };
/** The colour channel of a chart whose rows have a `path` field: a path's colour in its legend. */
export const PATH_COLOR = { field: 'path', type: 'nominal' as const, scale: PATH_COLORS, title: 'path' };
/** The paired delta (backbone − baseline), in every chart that draws it. */
export const DELTA_COLOR = '#7570b3';

/** A dashed rule at 0 on the `axis` channel: a delta's sign is read against it. */
export function zeroRule(axis: 'x' | 'y') {
  return {
    data: { values: [{ zero: 0 }] },
    mark: { type: 'rule' as const, color: '#333', strokeDash: [4, 3] },
    encoding: { [axis]: { field: 'zero', type: 'quantitative' as const } },
  };
}

/** What every chart's spec starts with: the vega-lite schema, its size, and a title over a subtitle. */
export function chartHead(size: { width: number; height: number }, text: string, subtitle: string) {
  return { $schema: VEGA_LITE_SCHEMA, width: size.width, height: size.height, title: { text, subtitle } };
}

/** Renders one vega-lite spec to a standalone SVG string. */
async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A page's charts as [id, caption, spec]; a spec is null when the page has no data for it. */
export type ChartSpecs = [string, string, TopLevelSpec | null][];

/** The charts that have data, rendered to SVG, in page order. */
export async function renderChartSpecs(specs: ChartSpecs): Promise<Chart[]> {
  const charts: Chart[] = [];
  for (const [id, title, spec] of specs) {
    if (spec !== null) charts.push({ id, title, svg: await renderSvg(spec) });
  }
  return charts;
}

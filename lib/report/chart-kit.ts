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

/** Renders one vega-lite spec to a standalone SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

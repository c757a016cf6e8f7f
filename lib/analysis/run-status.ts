/**
 * How the run went, as the analysis sees it: what run.json says (the run's own watch: an agent or a
 * link that died, a path that went silent) plus what the data shows (a path whose events stop well
 * before the other's, events lost). The verdict starts with it whenever it is not `succeeded`.
 */
import type { PathName } from '../samples';
import { mergeCauses, statusWith, type RunCause, type RunFile, type RunStatus } from '../run-file';
import type { PathAnalysis } from './path';

/**
 * A path whose last event arrives this much before the other path's went silent at the end. Far
 * above what the links' delays can explain (the paths end within ~0.1 s of each other in a healthy
 * run: the exchange stops first and both drain), far below a dead link's usual tail.
 */
export const SILENT_TAIL_S = 2;

export interface RunStatusReport {
  status: RunStatus;
  /** Why it is not `succeeded`: run.json's causes first, then what the analysis found. */
  causes: RunCause[];
  /** Where the status comes from: run.json, the analysis, or both. */
  source: 'run.json' | 'analysis' | 'run.json and analysis';
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** What the data shows against the run: silent tails and lost events, per path. */
function analysisCauses(paths: Record<PathName, PathAnalysis | null>): RunCause[] {
  const causes: RunCause[] = [];
  const a = paths.baseline?.span ?? null;
  const b = paths.backbone?.span ?? null;
  if (a !== null && b !== null) {
    const pairs: [PathName, { last: number }, PathName, { last: number }][] = [
      ['baseline', a, 'backbone', b],
      ['backbone', b, 'baseline', a],
    ];
    for (const [path, span, other, otherSpan] of pairs) {
      const gap = otherSpan.last - span.last;
      if (gap >= SILENT_TAIL_S) {
        causes.push({
          what: `${path} path`,
          at: iso(span.last),
          detail: `${path} went silent ${gap.toFixed(1)} s before the end of ${other} (its last event at ${iso(span.last)})`,
        });
      }
    }
  }
  for (const path of ['baseline', 'backbone'] as PathName[]) {
    const lost = paths[path]?.summary.events_lost;
    // A silent tail already explains its loss; the verdict's loss clause gives the count.
    if (typeof lost === 'number' && lost > 0 && !causes.some((c) => c.what === `${path} path`)) {
      causes.push({ what: `${path} path`, at: null, detail: `${path} lost events` });
    }
  }
  return causes;
}

/** The run's status: run.json's (or `succeeded` when it has none yet), degraded by what the analysis found. */
export function assessRunStatus(
  run: RunFile | null,
  paths: Record<PathName, PathAnalysis | null>,
): RunStatusReport {
  // A folder without run.json (the seed's CSVs, another tool's) is not a run feedpath recorded:
  // it has no status to degrade, and its loss is named by the verdict's loss clause.
  if (run === null) return { status: 'succeeded', causes: [], source: 'run.json' };
  const recorded = run.causes;
  // What the run's own watch saw of a path (it went silent) is the better account of it: the data's
  // view of the same path is kept only when the watch saw nothing there.
  const found = analysisCauses(paths).filter((c) => !recorded.some((r) => r.what === c.what));
  const causes = mergeCauses(recorded, found);
  const status = statusWith(run.status ?? 'succeeded', causes);
  const fromRun = run.status !== undefined && run.status !== 'succeeded';
  const fromAnalysis = found.length > 0;
  return {
    status,
    causes,
    source: fromRun && fromAnalysis ? 'run.json and analysis' : fromAnalysis ? 'analysis' : 'run.json',
  };
}

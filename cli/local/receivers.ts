/**
 * The end of a local run with several receivers: the matrix analysis (lib/analysis/receivers.ts),
 * the run's status over all receivers, and what the command prints.
 */
import { join } from 'node:path';
import { analyzeReceivers, type AnalyzeReceiversResult } from '../../lib/analysis/receivers';
import type { AnalyzeRunOptions } from '../../lib/analysis/run';
import { hasEvidence } from '../../lib/report';
import { mergeCauses, statusWith, type RunCause, type RunStatus } from '../../lib/run-file';
import { LocalFolderStore } from '../../lib/store/local';

/** Analyses each receiver's folder of the run in `runDir` and writes the matrix report there. */
export function analyzeLocalReceivers(
  runDir: string,
  names: string[],
  options: Pick<AnalyzeRunOptions, 'minDifferenceMs' | 'minDifferenceShare' | 'replayCapture'> = {},
): Promise<AnalyzeReceiversResult> {
  return analyzeReceivers(new LocalFolderStore(runDir), '', names, options);
}

/**
 * The run's status over all receivers: what the measurement saw, plus what each receiver's data
 * shows (a silent tail, lost events) named with the receiver, plus any receiver left unanalysed.
 */
export function receiversRunStatus(
  measured: RunStatus,
  measuredCauses: readonly RunCause[],
  result: AnalyzeReceiversResult,
): { status: RunStatus; causes: RunCause[] } {
  const seen = new Set(measuredCauses.map((c) => `${c.what}\u0000${c.detail}`));
  const found: RunCause[] = [];
  for (const [name, analysis] of Object.entries(result.receivers)) {
    if (analysis === null) {
      const error = result.matrix.receivers[name]?.error ?? 'not analysed';
      found.push({ what: `receiver ${name}`, at: new Date().toISOString(), detail: `${name}: ${error}` });
      continue;
    }
    // Each receiver's analysis also read the run's own causes (run.json): those are not its own.
    for (const cause of analysis.report.run_status.causes) {
      if (seen.has(`${cause.what}\u0000${cause.detail}`)) continue;
      found.push({ ...cause, what: `${name} ${cause.what}`, detail: `${name}: ${cause.detail}` });
    }
  }
  const causes = mergeCauses(measuredCauses, found);
  return { status: statusWith(measured === 'interrupted' ? 'interrupted' : 'succeeded', causes), causes };
}

/** Whether any receiver's comparison has enough evidence for a verdict. */
export function receiversHaveEvidence(result: AnalyzeReceiversResult): boolean {
  return Object.values(result.receivers).some((a) => a !== null && hasEvidence(a.report));
}

/** The overall answer, one line per receiver (its verdict), and the reports' paths. */
export function formatReceiversOutput(result: AnalyzeReceiversResult, runDir: string): string {
  const width = Math.max(...result.matrix.matrix.map((row) => row.receiver.length));
  return [
    result.matrix.overall,
    '',
    ...result.matrix.matrix.map((row) => {
      const entry = result.matrix.receivers[row.receiver];
      return `${row.receiver.padEnd(width)}  ${entry?.verdict ?? entry?.error ?? row.judgement}`;
    }),
    '',
    `report: ${result.files.reportHtml}`,
    `        ${result.files.reportJson}`,
    `        ${result.files.reportMarkdown}`,
    ...result.matrix.matrix.map(
      (row) => `        ${join(runDir, result.matrix.receivers[row.receiver]?.report.html ?? '')}`,
    ),
  ].join('\n');
}

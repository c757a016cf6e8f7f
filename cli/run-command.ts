/**
 * `feedpath run` as typed: its options checked and turned into the run's options, the run
 * (cli/run.ts), its report printed and the exit code chosen (lib/run-file.ts EXIT_CODES).
 */
import { parseLocalRunOptions } from '../lib/experiment';
import { chooseReceivers, DEFAULT_RECEIVERS_PROFILE, loadProfile } from '../lib/profile';
import { hasEvidence } from '../lib/report';
import { EXIT_CODES } from '../lib/run-file';
import { formatAnalyzeOutput } from './analyze';
import { formatReceiversOutput, receiversHaveEvidence } from './local/receivers';
import { Progress } from './progress';
import { openReplaySource } from './replay-source';
import { runLocal } from './run';
import { checkOutDir } from './usage';

/** Runs `feedpath run` with its parsed options (commander's); returns the process's exit code. */
export async function runCommand(raw: Record<string, unknown>): Promise<number> {
  // Usage errors stop here, before a run folder or a history record exists.
  await checkOutDir('--out', String(raw.out));
  const loaded = typeof raw.profile === 'string' ? await loadProfile(raw.profile) : undefined;
  // --receivers without a profile runs the default multi-receiver profile (with the simulator).
  const profile =
    loaded ??
    (raw.receivers !== undefined && raw.exchange === undefined ? DEFAULT_RECEIVERS_PROFILE : undefined);
  const receivers =
    typeof raw.receivers === 'string'
      ? chooseReceivers(raw.receivers, profile ?? DEFAULT_RECEIVERS_PROFILE)
      : undefined;
  const options = parseLocalRunOptions({
    durationSeconds: raw.duration,
    streams: raw.streams,
    mode: raw.mode,
    profile,
    receivers,
    out: raw.out,
    exchange: raw.exchange,
    replay: raw.replay,
    speed: raw.speed,
    label: raw.label,
    hopCompensation: raw.hopCompensation,
    seed: raw.seed,
    control: raw.control,
    record: raw.record === true,
    minDifferenceMs: raw.minDifferenceMs,
    minDifferenceShare: raw.minDifferenceShare,
  });
  const progress = new Progress();
  // A capture in S3 is downloaded first (cli/replay-source.ts), and deleted after the run.
  const replay =
    options.replay === undefined
      ? undefined
      : await openReplaySource('--replay', options.replay, { log: (line) => progress.step(line) });
  let outcome: Awaited<ReturnType<typeof runLocal>>;
  try {
    outcome = await runLocal(
      replay === undefined || replay.file === replay.source
        ? options
        : { ...options, replay: replay.file, replaySource: replay.source },
      progress,
    );
  } finally {
    await replay?.cleanup();
  }
  const { analysis, receivers: matrix } = outcome;
  if (analysis) process.stdout.write(`${formatAnalyzeOutput(analysis)}\n`);
  if (matrix) process.stdout.write(`${formatReceiversOutput(matrix, outcome.runDir)}\n`);
  const evidence = analysis ? hasEvidence(analysis.report) : matrix ? receiversHaveEvidence(matrix) : false;
  return outcome.status === 'succeeded' && !evidence ? EXIT_CODES.insufficient : EXIT_CODES[outcome.status];
}

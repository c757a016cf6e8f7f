/**
 * The files the receiver records as the run goes: one sample CSV per feed (./recorder.ts stamps
 * and parses into it), and the optional capture of the baseline's raw messages.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CAPTURE_FILE, CaptureWriter } from '../../lib/capture-writer';
import { ErrorCode, FeedpathError, userError } from '../../lib/errors';
import { SampleWriter, resultsCsvName, type FeedName } from '../../lib/samples';
import { PathRecorder } from './recorder';

/**
 * Creates `outDir` and a sample file per feed, each with its recorder. A file that cannot be
 * created fails the start (the ones already open are closed); a write error later goes to
 * `onError` (the rows written so far are kept).
 */
export async function openRecorders(
  outDir: string,
  feeds: readonly FeedName[],
  flushIntervalMs: number,
  onError: (error: Error) => void,
): Promise<Map<FeedName, PathRecorder>> {
  const recorders = new Map<FeedName, PathRecorder>();
  try {
    await mkdir(outDir, { recursive: true });
    for (const path of feeds) {
      const writer = await SampleWriter.create(join(outDir, resultsCsvName(path)), {
        flushIntervalMs,
        onError,
      });
      recorders.set(path, new PathRecorder(path, writer));
    }
  } catch (error) {
    for (const recorder of recorders.values()) await recorder.writer.close();
    throw new FeedpathError(
      userError(error)?.code ?? ErrorCode.agentFailed,
      `receiver: cannot create the sample files in ${outDir}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return recorders;
}

/**
 * Opens the capture (`record`). The capture is auxiliary: a file that cannot be created or written
 * is a warning, not the end (undefined when it cannot be created).
 */
export async function openCapture(
  outDir: string,
  warn: (error: FeedpathError) => void,
): Promise<CaptureWriter | undefined> {
  const onError = (error: Error): void =>
    warn(
      new FeedpathError(
        ErrorCode.agentFailed,
        `receiver: the capture ${CAPTURE_FILE} cannot be written (${error.message}); the run goes on without it`,
      ),
    );
  return CaptureWriter.create(join(outDir, CAPTURE_FILE), { onError }).catch((error: unknown) => {
    onError(error as Error);
    return undefined;
  });
}

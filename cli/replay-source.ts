/**
 * `feedpath run --replay <capture>`: a capture file, or its `s3://bucket/key` (a cloud run's
 * `capture/baseline.jsonl.gz`), downloaded through the S3 client into a temporary folder before the
 * run starts (the simulator reads a file), and deleted when the run is over; fetched again when the
 * run is analysed later ({@link replayCaptureOfRun}).
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ErrorCode, FeedpathError } from '../lib/errors';
import { LocalFolderStore, readJsonWith } from '../lib/store';
import { checkReplayFile } from './usage';

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;
/** What a later analysis needs of a run's input.json: the replayed file and where it came from. */
const REPLAY_FIELDS = z.looseObject({ replay: z.string().optional(), replaySource: z.string().optional() });

export interface ReplaySource {
  /** The local file the simulator reads. */
  file: string;
  /** What the user gave (the file, or the s3:// URI). */
  source: string;
  /** Removes what was downloaded (nothing for a local file). */
  cleanup(): Promise<void>;
}

export interface ReplaySourceOptions {
  /** The S3 client (default: one for AWS_REGION, else eu-central-1, following region redirects). */
  s3?: S3Client;
  log?: (line: string) => void;
}

/** The capture to replay, on this machine; usage errors name the option as typed. */
export async function openReplaySource(
  option: string,
  source: string,
  options: ReplaySourceOptions = {},
): Promise<ReplaySource> {
  if (!source.startsWith('s3:')) {
    await checkReplayFile(option, source);
    return { file: source, source, cleanup: async () => undefined };
  }
  const match = S3_URI.exec(source);
  if (match === null) {
    throw new FeedpathError(ErrorCode.badInput, `${option} ${source}: expected s3://bucket/key`);
  }
  const [, bucket, key] = match as unknown as [string, string, string];
  const client =
    options.s3 ??
    new S3Client({
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'eu-central-1',
      followRegionRedirects: true,
    });
  const dir = await mkdtemp(join(tmpdir(), 'feedpath-replay-'));
  const file = join(dir, basename(key));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (object.Body === undefined) throw new Error('the response has no body');
    await pipeline(object.Body as Readable, createWriteStream(file));
  } catch (error) {
    await cleanup();
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const missing =
      e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404;
    throw new FeedpathError(
      ErrorCode.badInput,
      `${option} ${source}: ${missing ? 'no such object' : `cannot download it (${e.name ?? ''}: ${e.message ?? String(error)})`}`,
      { cause: error },
    );
  } finally {
    if (options.s3 === undefined) client.destroy();
  }
  options.log?.(`replay: downloaded ${source}`);
  return { file, source, cleanup };
}

/**
 * For a later `feedpath analyze` of a run that replayed a capture from S3: the copy the run
 * downloaded is gone, so the analysis could only place the market by the replay's rebased event
 * times (lib/analysis/market-capture.ts). Fetches the capture again from the run's input.json
 * `replaySource`; null when the run replayed no S3 capture, when its local copy is still there, or
 * when the download fails (logged: the analysis then warns as before, it does not fail for it).
 */
export async function replayCaptureOfRun(
  folder: string,
  options: ReplaySourceOptions = {},
): Promise<ReplaySource | null> {
  // input.json's two fields of the run's options (lib/experiment.ts); unreadable: nothing to fetch.
  const input = await readJsonWith(new LocalFolderStore(folder), 'input.json', REPLAY_FIELDS).catch(
    () => null,
  );
  const { replay, replaySource } = input ?? {};
  if (replaySource === undefined || !replaySource.startsWith('s3:')) return null;
  if (replay !== undefined && existsSync(replay)) return null;
  try {
    return await openReplaySource('replaySource', replaySource, options);
  } catch (error) {
    options.log?.(`replay: the run's capture could not be fetched again (${(error as Error).message})`);
    return null;
  }
}

/**
 * Runs `analyze` with the run's replayed S3 capture fetched again ({@link replayCaptureOfRun}), or
 * with undefined when there is none to fetch, and removes the download afterwards.
 */
export async function withRunCapture<T>(
  folder: string,
  options: ReplaySourceOptions,
  analyze: (replayCapture: string | undefined) => Promise<T>,
): Promise<T> {
  const fetched = await replayCaptureOfRun(folder, options);
  try {
    return await analyze(fetched?.file);
  } finally {
    await fetched?.cleanup();
  }
}

/**
 * Where a run's files live: a local results folder or an S3 prefix, behind one interface, so that
 * `feedpath analyze` and the analysis Lambda run the same code. Keys use `/` in both.
 */
import type { z } from 'zod';
import { describeIssues } from '../zod-issues';

export interface ResultsStore {
  /** Where a key is, for messages: a file path or an `s3://` URL. */
  describe(key: string): string;
  /** Every key that starts with `prefix` (recursively), sorted. */
  list(prefix: string): Promise<string[]>;
  /** The object's bytes as a stream, or null when there is no such object. */
  readStream(key: string): Promise<AsyncIterable<Uint8Array> | null>;
  /** Writes (replaces) an object. */
  write(key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
}

/** The whole object as UTF-8 text, or null when it does not exist. */
export async function readText(store: ResultsStore, key: string): Promise<string | null> {
  const stream = await store.readStream(key);
  if (stream === null) return null;
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString('utf8');
}

/** A key prefix as a folder: '' (the store's root) or ending in '/'. */
export function folderPrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/**
 * A JSON file of a run through its schema (one reader for every file one part writes and another
 * reads): the value, or null when the key is absent, is not JSON or is not what the schema says —
 * `onProblem` hears why ("<where> is not valid JSON (…)", "<where> is not <what> (…)").
 */
export async function readJsonWith<S extends z.ZodType>(
  store: ResultsStore,
  key: string,
  schema: S,
  options: { what?: string; onProblem?: (problem: string) => void } = {},
): Promise<z.infer<S> | null> {
  const text = await readText(store, key);
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    options.onProblem?.(`${store.describe(key)} is not valid JSON (${(error as Error).message})`);
    return null;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    options.onProblem?.(
      `${store.describe(key)} is not ${options.what ?? 'what it should be'} (${describeIssues(parsed.error)})`,
    );
    return null;
  }
  return parsed.data;
}

/** A content type for the files a run produces. */
export function contentTypeOf(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.html')) return 'text/html; charset=utf-8';
  if (key.endsWith('.md')) return 'text/markdown; charset=utf-8';
  if (key.endsWith('.csv')) return 'text/csv; charset=utf-8';
  return 'application/octet-stream';
}

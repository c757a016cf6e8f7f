/**
 * Where a run's files live: a local results folder or an S3 prefix, behind one interface, so that
 * `feedpath analyze` and the analysis Lambda run the same code. Keys use `/` in both.
 */
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

/** A content type for the files a run produces. */
export function contentTypeOf(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.html')) return 'text/html; charset=utf-8';
  if (key.endsWith('.md')) return 'text/markdown; charset=utf-8';
  if (key.endsWith('.csv')) return 'text/csv; charset=utf-8';
  return 'application/octet-stream';
}

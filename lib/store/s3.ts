/** An S3 prefix as a {@link ResultsStore}; the client is injected (one per region, created once). */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ErrorCode, FeedpathError } from '../errors';
import { contentTypeOf, type ResultsStore } from './store';

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export class S3Store implements ResultsStore {
  readonly client: S3Client;
  readonly bucket: string;

  constructor(options: { client: S3Client; bucket: string }) {
    this.client = options.client;
    this.bucket = options.bucket;
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw new FeedpathError(
        ErrorCode.storeFailed,
        `cannot list ${this.describe(prefix)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return keys.sort();
  }

  async readStream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = object.Body as unknown as AsyncIterable<Uint8Array> | undefined;
      if (body === undefined || typeof body[Symbol.asyncIterator] !== 'function') {
        throw new Error('the response has no readable body');
      }
      return body;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw new FeedpathError(
        ErrorCode.storeFailed,
        `cannot read ${this.describe(key)}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async write(key: string, body: string | Uint8Array, contentType = contentTypeOf(key)): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
      );
    } catch (error) {
      throw new FeedpathError(
        ErrorCode.storeFailed,
        `cannot write ${this.describe(key)}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

/** A real S3 HTTP endpoint on loopback (s3rver) for the tests of the S3 code paths. */
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { removeDir, tempDir } from './analysis-fixtures';

export interface LocalS3 {
  client: S3Client;
  close(): Promise<void>;
}

/** Starts s3rver with `bucket` in a temporary folder and a client for it. */
export async function startLocalS3(bucket: string): Promise<LocalS3> {
  const dir = await tempDir();
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const client = new S3Client({
    region: 'eu-central-1',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    // s3rver would store the SDK's default streaming checksum framing inside the object.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    client,
    async close() {
      client.destroy();
      await server.close();
      await removeDir(dir);
    },
  };
}

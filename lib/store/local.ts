/** A results folder on this machine as a {@link ResultsStore}. */
import { mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ErrorCode, FeedpathError } from '../errors';
import type { ResultsStore } from './store';

const READ_CHUNK_BYTES = 1 << 20;

export class LocalFolderStore implements ResultsStore {
  constructor(readonly root: string) {}

  describe(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async list(prefix: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.root, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new FeedpathError(
        ErrorCode.storeFailed,
        `cannot list ${this.root}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return entries
      .map((entry) => relative(this.root, join(this.root, entry)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix))
      .sort();
  }

  async readStream(key: string): Promise<AsyncIterable<Uint8Array> | null> {
    const path = this.describe(key);
    try {
      const handle = await open(path, 'r');
      const stat = await handle.stat();
      if (stat.isDirectory()) {
        await handle.close();
        throw new FeedpathError(ErrorCode.storeFailed, `${path} is a folder, not a file`);
      }
      return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (error instanceof FeedpathError) throw error;
      throw new FeedpathError(ErrorCode.storeFailed, `cannot read ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  async write(key: string, body: string | Uint8Array): Promise<void> {
    const path = this.describe(key);
    // Written beside and renamed: a reader never sees half a report.
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(temporary, body);
      await rename(temporary, path);
    } catch (error) {
      throw new FeedpathError(ErrorCode.storeFailed, `cannot write ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

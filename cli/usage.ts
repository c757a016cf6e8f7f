/**
 * Checks of `feedpath run`'s options that need more than a schema: the exchange URL's scheme, the
 * replay file, the results folder. They run before anything is created, so a mistyped option costs
 * nothing and leaves no run folder or history record; each message names the option as typed.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { ErrorCode, FeedpathError } from '../lib/errors';

/** commander parser: a ws:// or wss:// URL (the exchange speaks WebSocket; http:// is a usual slip). */
export function exchangeUrl(option: string) {
  return (value: string): string => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidArgumentError(`${option} must be a ws:// or wss:// URL, not "${value}"`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new InvalidArgumentError(
        `${option} must be a ws:// or wss:// URL, not ${url.protocol}// ("${value}")`,
      );
    }
    return value;
  };
}

/** The capture to replay exists and is a readable file. */
export async function checkReplayFile(option: string, file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (info === null) throw new FeedpathError(ErrorCode.badInput, `${option} ${file}: no such file`);
  if (!info.isFile()) throw new FeedpathError(ErrorCode.badInput, `${option} ${file}: not a file`);
  await access(file, constants.R_OK).catch(() => {
    throw new FeedpathError(ErrorCode.badInput, `${option} ${file}: not readable`);
  });
}

/**
 * The results folder can be created or written: it is a folder if it exists, else its nearest
 * existing parent is a writable folder. Nothing is created here (the run creates its folder).
 */
export async function checkOutDir(option: string, dir: string): Promise<void> {
  let current = resolve(dir);
  for (;;) {
    const info = await stat(current).catch((error: NodeJS.ErrnoException) =>
      // Not there yet (or a parent is a file, which the loop reaches and names): look further up.
      error.code === 'ENOENT' || error.code === 'ENOTDIR' ? null : error,
    );
    if (info instanceof Error) {
      throw new FeedpathError(
        ErrorCode.badInput,
        `${option} ${dir}: ${current} cannot be used (${info.code})`,
      );
    }
    if (info !== null) {
      if (!info.isDirectory()) {
        throw new FeedpathError(ErrorCode.badInput, `${option} ${dir}: ${current} is not a folder`);
      }
      await access(current, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
        throw new FeedpathError(
          ErrorCode.badInput,
          `${option} ${dir}: ${current} is not writable (${error.code ?? error.message})`,
        );
      });
      return;
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/**
 * The header line of a results CSV: the seed's six columns first, in the seed's order (anything
 * else is not a results file), then ours, wherever they are.
 */
import { ErrorCode, FeedpathError } from '../errors';
import { SEED_COLUMNS } from '../samples';
import { MAX_FIELDS } from './csv-fields';

/** The index of each of our columns in the file (-1: absent), and the last one used. */
export interface HeaderColumns {
  stream: number;
  symbol: number;
  exchangeUs: number;
  firstId: number;
  connection: number;
  price: number;
  quantity: number;
  lastUsed: number;
}

/** Reads the header line `where` (file:line, for errors); throws FP_BAD_RESULTS when it is not the seed's. */
export function readHeader(buf: Buffer, s: number, e: number, where: string): HeaderColumns {
  let text = Buffer.from(buf.subarray(s, e)).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const names = text.split(',').map((name) => name.trim());
  const seedOk = SEED_COLUMNS.every((column, i) => names[i] === column);
  if (!seedOk) {
    const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
    const missing = SEED_COLUMNS.filter((column) => !names.includes(column));
    const why =
      missing.length > 0
        ? `missing column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`
        : 'the seed columns are in another order';
    throw new FeedpathError(
      ErrorCode.badResults,
      `${where}: header is not the seed's (${why}): expected it to start with "${SEED_COLUMNS.join(',')}", found "${shown}"`,
    );
  }
  if (names.length > MAX_FIELDS) {
    throw new FeedpathError(ErrorCode.badResults, `${where}: more than ${MAX_FIELDS} columns`);
  }
  const columns = {
    stream: names.indexOf('stream'),
    symbol: names.indexOf('symbol'),
    exchangeUs: names.indexOf('exchange_time_us'),
    firstId: names.indexOf('first_update_id'),
    connection: names.indexOf('connection'),
    price: names.indexOf('price'),
    quantity: names.indexOf('quantity'),
  };
  return { ...columns, lastUsed: Math.max(...Object.values(columns)) };
}

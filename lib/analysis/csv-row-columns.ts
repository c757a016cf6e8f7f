/**
 * The columns the rows of a results CSV are stored in while the file is read: one growable typed
 * column per value (columns.ts). The row reader (csv-row.ts) pushes each row's values straight
 * into them, a check (csv-row-checks.ts) may re-flag a row already stored, and `finish()` hands
 * them out as the per-row arrays of `PathColumns`.
 */
import { F64Column, OptionalF64Column, OptionalU16Column, U16Column, U8Column } from './columns';
import type { PathColumns } from './path-columns';

/** The arrays of `PathColumns` that hold one value per row. */
export type RowArrays = Pick<
  PathColumns,
  | 'flags'
  | 'group'
  | 'seq'
  | 'firstId'
  | 'connection'
  | 'eventUs'
  | 'price'
  | 'quantity'
  | 'arrivalNs'
  | 'e2eMs'
  | 'legMs'
  | 'exchangeToForwarderMs'
>;

/** One file's rows, a column per value; the fields are pushed to directly (no call per row more). */
export class RowColumns {
  // A value in every row (arrival, e2e: NaN when the cell is empty or bad).
  readonly flags = new U8Column();
  readonly group = new U16Column();
  readonly seq = new F64Column();
  readonly arrival = new F64Column();
  readonly e2e = new F64Column();
  // Values many files lack: no column until a row has one.
  readonly firstId = new OptionalF64Column();
  readonly connection = new OptionalU16Column();
  readonly eventUs = new OptionalF64Column();
  readonly price = new OptionalF64Column();
  readonly quantity = new OptionalF64Column();
  readonly leg = new OptionalF64Column();
  readonly exFwd = new OptionalF64Column();

  /** The rows pushed, as arrays over the columns' memory (see columns.ts). */
  finish(): RowArrays {
    return {
      flags: this.flags.finish(),
      group: this.group.finish(),
      seq: this.seq.finish(),
      firstId: this.firstId.finish(),
      connection: this.connection.finish(),
      eventUs: this.eventUs.finish(),
      price: this.price.finish(),
      quantity: this.quantity.finish(),
      arrivalNs: this.arrival.finish(),
      e2eMs: this.e2e.finish(),
      legMs: this.leg.finish(),
      exchangeToForwarderMs: this.exFwd.finish(),
    };
  }
}

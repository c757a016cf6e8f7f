/**
 * Growable numeric columns on resizable ArrayBuffers: the address space for the largest possible
 * column is reserved up front (not memory), pages are committed as rows arrive, and growing never
 * copies. `finish()` hands out a view of the same memory. A doubling array or a list of chunks
 * joined at the end would each hold a 10-million-row column twice for a while, and the analysis
 * Lambda has 1 GB for two paths.
 */

// lib ES2023 does not type resizable buffers (ES2024); Node ≥ 20 has them.
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const Resizable = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableArrayBuffer;

/** Address space reserved per column: 2 GiB, i.e. 268 million rows of float64. */
const MAX_BYTES = 2 ** 31;
const INITIAL_ROWS = 1 << 16;

interface TypedConstructor<T> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

class Column<T extends Float64Array | Uint16Array | Uint8Array> {
  private buffer: ResizableArrayBuffer;
  private view: T;
  private capacity = INITIAL_ROWS;
  length = 0;

  constructor(private readonly type: TypedConstructor<T>) {
    this.buffer = new Resizable(INITIAL_ROWS * type.BYTES_PER_ELEMENT, { maxByteLength: MAX_BYTES });
    this.view = new type(this.buffer, 0, INITIAL_ROWS);
  }

  push(value: number): void {
    if (this.length === this.capacity) this.grow();
    this.view[this.length++] = value;
  }

  /** Overwrites a value already pushed (e.g. a row found out of line once the next one is read). */
  set(index: number, value: number): void {
    if (index < 0 || index >= this.length) throw new RangeError(`row ${index} is not in the column`);
    this.view[index] = value;
  }

  private grow(): void {
    if (this.capacity === 0) throw new Error('column used after finish()');
    const limit = MAX_BYTES / this.type.BYTES_PER_ELEMENT;
    if (this.capacity >= limit) throw new RangeError(`a results file has more than ${limit} rows`);
    this.capacity = Math.min(limit, this.capacity * 2);
    this.buffer.resize(this.capacity * this.type.BYTES_PER_ELEMENT);
    this.view = new this.type(this.buffer, 0, this.capacity);
  }

  /** The values pushed, as one array over the same memory; the column is empty afterwards. */
  finish(): T {
    const out = new this.type(this.buffer, 0, this.length);
    this.buffer = new Resizable(0, { maxByteLength: 0 });
    this.view = new this.type(this.buffer, 0, 0);
    this.capacity = 0;
    this.length = 0;
    return out;
  }
}

export class F64Column extends Column<Float64Array> {
  constructor() {
    super(Float64Array);
  }
}

export class U16Column extends Column<Uint16Array> {
  constructor() {
    super(Uint16Array);
  }
}

export class U8Column extends Column<Uint8Array> {
  constructor() {
    super(Uint8Array);
  }
}

/**
 * A column many files lack (depth ids, price, the backbone leg, the connection ordinal…): it begins
 * at the first row with a value, `none` before it, and stays null while no row has one.
 */
class OptionalColumn<T extends Float64Array | Uint16Array> {
  private column: Column<T> | null = null;

  constructor(
    private readonly create: () => Column<T>,
    /** What a row without a value holds. */
    private readonly none: number,
  ) {}

  /** Appends row `row`'s value (`none` or NaN when the row has none). */
  push(row: number, value: number): void {
    if (value === value && value !== this.none) {
      if (this.column === null) {
        this.column = this.create();
        for (let i = 0; i < row; i++) this.column.push(this.none);
      }
      this.column.push(value);
    } else if (this.column !== null) this.column.push(this.none);
  }

  finish(): T | null {
    return this.column?.finish() ?? null;
  }
}

/** Floats: NaN ("not applicable") in a row without one. */
export class OptionalF64Column extends OptionalColumn<Float64Array> {
  constructor() {
    super(() => new F64Column(), NaN);
  }
}

/** Small whole numbers (connection ordinals, 1…65,535): 0 in a row without one, two bytes a row. */
export class OptionalU16Column extends OptionalColumn<Uint16Array> {
  constructor() {
    super(() => new U16Column(), 0);
  }
}

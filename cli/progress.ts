/**
 * Progress on long work: one status line redrawn in place on a terminal, a plain line every few
 * seconds otherwise (CI logs, pipes). Steps and results are printed as ordinary lines.
 */
export class Progress {
  private lastPlain = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly plainEveryMs = 5_000,
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** A step of the run, e.g. "provision: exchange simulator, 3 link emulators". */
  step(text: string): void {
    this.clear();
    this.stream.write(`• ${text}\n`);
  }

  /** The live status line. */
  status(text: string): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = now;
      this.stream.write(`  ${text}\n`);
    }
  }

  warn(text: string): void {
    this.clear();
    this.stream.write(`! ${text}\n`);
  }

  /** Removes the status line before ordinary output. */
  clear(): void {
    if (this.drawn) {
      this.stream.write('\r\x1b[2K');
      this.drawn = false;
    }
  }
}

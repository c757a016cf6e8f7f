/** Starting pinned processes and reading their JSON lines, for the benchmarks. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Json } from '../lib/json';

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** `taskset -c <core> <command…>` where taskset works, the bare command otherwise. */
export function pinned(
  core: number | undefined,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  if (core === undefined || !hasTaskset) return { command, args };
  return { command: 'taskset', args: ['-c', String(core), command, ...args] };
}

export function pinningNote(): string {
  return hasTaskset ? 'taskset, one core per process' : 'not pinned (no taskset)';
}

/** No wait on a process' output may hang the benchmark. */
const STOP_TIMEOUT_MS = 30_000;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const running = new Set<ChildProcess>();
let cleanupInstalled = false;

/** Kills every process the benchmark started that is still running (on exit, too). */
function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** A child process whose stdout is JSON lines; stderr is kept (its tail explains a failure). */
export class Proc {
  readonly lines: Json[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private stderrTail = '';
  private done = false;

  constructor(
    readonly label: string,
    command: string,
    args: string[],
  ) {
    if (!cleanupInstalled) {
      cleanupInstalled = true;
      process.once('exit', killAll);
    }
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.child);
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-4_000);
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Json);
      } catch {
        // not a report line
      }
    });
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        this.done = true;
        running.delete(this.child);
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The first line so far that matches, or the next one; fails on exit or after `timeoutMs`. */
  async waitFor(match: (line: Json) => boolean, what: string, timeoutMs: number): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find(match);
      if (line !== undefined) return line;
      if (this.done) throw this.failure(`exited before ${what}`);
      if (Date.now() > deadline) throw this.failure(`no ${what} within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** The last line so far that matches. */
  latest(match: (line: Json) => boolean): Json | undefined {
    return this.lines.findLast(match);
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`); returns the `done` event if any. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<Json | undefined> {
    if (!this.done) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.latest((l) => l.event === 'done');
  }

  kill(): void {
    if (!this.done) this.child.kill('SIGKILL');
  }

  failure(message: string): Error {
    return new Error(`${this.label}: ${message}${this.stderrTail ? `\n${this.stderrTail}` : ''}`);
  }
}

/** Starts a benchmark worker (bench/workers.ts) pinned to a core. */
export function startWorker(name: string, args: Json, core?: number): Proc {
  const { command, args: argv } = pinned(core, process.execPath, [
    process.argv[1] as string,
    '--worker',
    name,
    JSON.stringify(args),
  ]);
  return new Proc(name, command, argv);
}

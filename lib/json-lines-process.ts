/**
 * A child process that reports in JSON lines on stdout: the local lab's agents
 * (cli/local/agent-process.ts) and the benchmark's agents and workers (bench/harness.ts). One way to
 * start one, read its lines, and stop it in order (SIGTERM, SIGKILL after a bound); how it is
 * started (pinned, detached, logged) is an option of the caller.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { Json } from './json';
import { AGENT_NODE_FLAGS } from './node-flags';

export interface JsonLinesProcessOptions {
  /** Its own process group (the local lab: Ctrl-C reaches the command, not every agent at once). */
  detached?: boolean;
  env?: NodeJS.ProcessEnv;
  /** A stdin pipe for commands (lib/agent.ts), ignored otherwise. */
  stdin?: boolean;
  /** Where every stdout line and all of stderr are copied (the lab's logs/<label>.log); ended after the exit. */
  log?: Writable;
  /** Keep only about this many lines (an agent of a long run reports for hours); all when unset. */
  keepLines?: number;
  /** Called with each JSON line after it is kept. */
  onLine?: (line: Json) => void;
}

/** The command line of an agent bundle as every local process starts it (same Node flags). */
export function agentCommand(script: string, config: unknown): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: [...AGENT_NODE_FLAGS, script, '--config-json', JSON.stringify(config)],
  };
}

export class JsonLinesProcess {
  readonly lines: Json[] = [];
  /** Resolves with the exit code when the process exits (128 when a signal ended it, null if it never ran). */
  readonly exited: Promise<number | null>;
  /** Resolves with the exit code (null after a signal) once its output is read to the end, too. */
  readonly closed: Promise<number | null>;
  /** The last 4,000 characters of stderr: they explain a failure. */
  stderrTail = '';
  private readonly child: ChildProcess;
  private exitCode: number | null | undefined;
  /** The signal that ended the process (e.g. SIGKILL from outside), null when it exited by itself. */
  private exitSignal: NodeJS.Signals | null = null;

  constructor(command: string, args: string[], options: JsonLinesProcessOptions = {}) {
    this.child = spawn(command, args, {
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
      env: options.env ?? process.env,
    });
    const log = options.log;
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4_000);
    });
    if (log) this.child.stderr?.pipe(log, { end: false });
    this.child.stdin?.on('error', () => undefined);
    const input = createInterface({ input: this.child.stdout! });
    input.on('line', (text) => {
      log?.write(`${text}\n`);
      let line: Json;
      try {
        line = JSON.parse(text) as Json;
      } catch {
        return; // not a report line
      }
      this.lines.push(line);
      if (options.keepLines !== undefined && this.lines.length > options.keepLines) {
        this.lines.splice(0, options.keepLines / 2);
      }
      options.onLine?.(line);
    });
    this.exited = new Promise((resolveExit) => {
      this.child.on('exit', (code, signal) => {
        this.exitSignal = signal;
        this.exitCode = code ?? (signal ? 128 : null);
        resolveExit(this.exitCode);
      });
      this.child.on('error', () => resolveExit(null));
    });
    this.closed = new Promise((resolveClose) => {
      this.child.on('close', (code) => resolveClose(code));
      this.child.on('error', () => resolveClose(null));
    });
    void this.exited.then(() => input.once('close', () => log?.end()));
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How the process ended, in words: "killed by SIGKILL", "exited with code 1" (null while running). */
  describeExit(): string | null {
    if (this.running) return null;
    if (this.exitSignal !== null) return `killed by ${this.exitSignal}`;
    return `exited with code ${this.exitCode}`;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Writes one JSON line to its stdin (started with `stdin`). */
  send(value: Json): void {
    if (this.running) this.child.stdin?.write(`${JSON.stringify(value)}\n`);
  }

  /** SIGTERM, then waits for the exit; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills it at once. */
  kill(): Promise<number | null> {
    this.signal('SIGKILL');
    return this.exited;
  }
}

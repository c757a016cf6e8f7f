/** An agent running as its own process, spoken to through the protocol of lib/agent.ts. */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SUPERVISED_ENV, type AgentEvent } from '../../lib/agent';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { agentsDir } from '../../lib/paths';
import { AGENT_NODE_FLAGS } from '../../lib/node-flags';

/** How long an agent may take to report `ready`. */
export const READY_TIMEOUT_MS = 15_000;
/** How long an agent may take to finish after SIGTERM before it is killed. */
export const STOP_TIMEOUT_MS = 15_000;

export type AgentName = 'exchange' | 'link' | 'forwarder' | 'receiver';

export class AgentProcess extends EventEmitter<{ event: [AgentEvent] }> {
  readonly events: AgentEvent[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private exitCode: number | null | undefined;
  /** The signal that ended the process (e.g. SIGKILL from outside), null when it exited by itself. */
  private exitSignal: NodeJS.Signals | null = null;
  /** Set when the supervisor itself asked the agent to stop: its exit is then no failure. */
  stopRequested = false;

  private constructor(
    readonly label: string,
    agent: AgentName,
    config: unknown,
    logDir: string,
    agentsDir: string,
  ) {
    super();
    const script = join(agentsDir, `${agent}.js`);
    if (!existsSync(script)) {
      throw new FeedpathError(ErrorCode.agentFailed, `${script} is missing: run \`npm run build\` first`);
    }
    mkdirSync(logDir, { recursive: true });
    this.log = createWriteStream(join(logDir, `${label}.log`));
    this.child = spawn(
      process.execPath,
      [...AGENT_NODE_FLAGS, script, '--config-json', JSON.stringify(config)],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: Ctrl-C in the terminal reaches the command, which stops the run in
        // order (and still analyses it), instead of every agent at once. The agent finishes by itself
        // when the command goes away (its stdin pipe closes).
        detached: true,
        env: { ...process.env, [SUPERVISED_ENV]: '1' },
      },
    );
    this.child.stderr?.pipe(this.log, { end: false });
    this.child.stdin?.on('error', () => undefined);
    const lines = createInterface({ input: this.child.stdout! });
    lines.on('line', (line) => {
      this.log.write(`${line}\n`);
      let event: AgentEvent;
      try {
        event = JSON.parse(line) as AgentEvent;
      } catch {
        return;
      }
      this.events.push(event);
      if (this.events.length > 1000) this.events.splice(0, 500);
      this.emit('event', event);
    });
    this.exited = new Promise((resolveExit) => {
      this.child.on('exit', (code, signal) => {
        this.exitSignal = signal;
        this.exitCode = code ?? (signal ? 128 : null);
        resolveExit(this.exitCode);
      });
      this.child.on('error', () => resolveExit(null));
    });
    void this.exited.then(() => lines.once('close', () => this.log.end()));
  }

  /** Starts an agent and waits for its `ready` event (or its failure). */
  static async start(
    label: string,
    agent: AgentName,
    config: unknown,
    options: { logDir: string; agentsDir?: string; readyTimeoutMs?: number },
  ): Promise<{ process: AgentProcess; ready: AgentEvent }> {
    const proc = new AgentProcess(label, agent, config, options.logDir, options.agentsDir ?? agentsDir());
    try {
      const ready = await proc.waitFor('ready', options.readyTimeoutMs ?? READY_TIMEOUT_MS);
      return { process: proc, ready };
    } catch (error) {
      await proc.stop(1_000);
      throw error;
    }
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The process id (for logs/processes.json: a user can find, trace or kill one agent of a run). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How the process ended, in words: "killed by SIGKILL", "exited with code 1" (null while running). */
  describeExit(): string | null {
    if (this.running) return null;
    if (this.exitSignal !== null) return `killed by ${this.exitSignal}`;
    return `exited with code ${this.exitCode}`;
  }

  /** Resolves with the first event of this kind; rejects if the agent errs or exits first. */
  waitFor(kind: string, timeoutMs: number): Promise<AgentEvent> {
    const seen = this.events.find((e) => e.event === kind);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolveEvent, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('event', onEvent);
      };
      const onEvent = (event: AgentEvent): void => {
        if (event.event === kind) {
          cleanup();
          resolveEvent(event);
        } else if (event.event === 'error') {
          cleanup();
          reject(this.failure(event));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new FeedpathError(
            ErrorCode.agentFailed,
            `${this.label} did not report "${kind}" within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.on('event', onEvent);
      void this.exited.then((code) => {
        if (!this.events.some((e) => e.event === kind)) {
          cleanup();
          const error = this.events.find((e) => e.event === 'error');
          reject(
            error
              ? this.failure(error)
              : new FeedpathError(
                  ErrorCode.agentFailed,
                  `${this.label} exited (code ${code}) before "${kind}"`,
                ),
          );
        }
      });
    });
  }

  /** Asks the agent to finish (SIGTERM) and waits; kills it if it takes too long. Returns its `done`. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<AgentEvent | undefined> {
    this.stopRequested = true;
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.events.find((e) => e.event === 'done');
  }

  /** Sends a command line to the agent's stdin (see lib/agent.ts). */
  command(name: string): void {
    if (this.running) this.child.stdin?.write(`${JSON.stringify({ command: name })}\n`);
  }

  /** Resolves with the first event satisfying `match` (seen already or to come); rejects on exit or timeout. */
  waitUntil(match: (event: AgentEvent) => boolean, what: string, timeoutMs: number): Promise<AgentEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolveEvent, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('event', onEvent);
      };
      const onEvent = (event: AgentEvent): void => {
        if (match(event)) {
          cleanup();
          resolveEvent(event);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new FeedpathError(
            ErrorCode.agentFailed,
            `${this.label}: ${what} not seen within ${timeoutMs / 1000} s`,
          ),
        );
      }, timeoutMs);
      this.on('event', onEvent);
      void this.exited.then((code) => {
        cleanup();
        const error = this.events.find((e) => e.event === 'error');
        reject(
          error
            ? this.failure(error)
            : new FeedpathError(ErrorCode.agentFailed, `${this.label} exited (code ${code}) before ${what}`),
        );
      });
    });
  }

  /** Kills the agent at once (tests: a crash). */
  kill(): Promise<number | null> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  private failure(event: AgentEvent): FeedpathError {
    const code = typeof event.code === 'string' ? event.code : ErrorCode.agentFailed;
    return new FeedpathError(
      (Object.values(ErrorCode) as string[]).includes(code) ? (code as ErrorCode) : ErrorCode.agentFailed,
      `${this.label}: ${String(event.message ?? 'failed')}`,
    );
  }
}

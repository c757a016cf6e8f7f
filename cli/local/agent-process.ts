/** An agent running as its own process, spoken to through the protocol of lib/agent.ts. */
import { EventEmitter } from 'node:events';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SUPERVISED_ENV, type AgentEvent } from '../../lib/agent';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { agentCommand, JsonLinesProcess } from '../../lib/json-lines-process';
import { agentsDir } from '../../lib/project-files';

/** How long an agent may take to report `ready`. */
export const READY_TIMEOUT_MS = 15_000;
/** How long an agent may take to finish after SIGTERM before it is killed. */
export const STOP_TIMEOUT_MS = 15_000;

export type AgentName = 'exchange' | 'link' | 'forwarder' | 'receiver';

export class AgentProcess extends EventEmitter<{ event: [AgentEvent] }> {
  readonly exited: Promise<number | null>;
  private readonly proc: JsonLinesProcess;
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
    const { command, args } = agentCommand(script, config);
    this.proc = new JsonLinesProcess(command, args, {
      stdin: true,
      // Its own process group: Ctrl-C in the terminal reaches the command, which stops the run in
      // order (and still analyses it), instead of every agent at once. The agent finishes by itself
      // when the command goes away (its stdin pipe closes).
      detached: true,
      env: { ...process.env, [SUPERVISED_ENV]: '1' },
      log: createWriteStream(join(logDir, `${label}.log`)),
      keepLines: 1000,
      onLine: (line) => this.emit('event', line as AgentEvent),
    });
    this.exited = this.proc.exited;
  }

  /** The events so far (the last 500 to 1,000 of a long run). */
  get events(): AgentEvent[] {
    return this.proc.lines as AgentEvent[];
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
    return this.proc.running;
  }

  /** The process id (for logs/processes.json: a user can find, trace or kill one agent of a run). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** How the process ended, in words: "killed by SIGKILL", "exited with code 1" (null while running). */
  describeExit(): string | null {
    return this.proc.describeExit();
  }

  /** Resolves with the first event of this kind; rejects if the agent errs or exits first. */
  waitFor(kind: string, timeoutMs: number): Promise<AgentEvent> {
    return this.awaitEvent((e) => e.event === kind, timeoutMs, {
      failOnError: true,
      timedOut: `${this.label} did not report "${kind}" within ${timeoutMs} ms`,
      exitedBefore: `"${kind}"`,
    });
  }

  /** Asks the agent to finish (SIGTERM) and waits; kills it if it takes too long. Returns its `done`. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<AgentEvent | undefined> {
    this.stopRequested = true;
    await this.proc.stop(timeoutMs);
    return this.events.find((e) => e.event === 'done');
  }

  /** Sends a command line to the agent's stdin (see lib/agent.ts). */
  command(name: string): void {
    this.proc.send({ command: name });
  }

  /** Resolves with the first event satisfying `match` (seen already or to come); rejects on exit or timeout. */
  waitUntil(match: (event: AgentEvent) => boolean, what: string, timeoutMs: number): Promise<AgentEvent> {
    return this.awaitEvent(match, timeoutMs, {
      failOnError: false,
      timedOut: `${this.label}: ${what} not seen within ${timeoutMs / 1000} s`,
      exitedBefore: what,
    });
  }

  /**
   * The first event satisfying `match`, seen already or to come. Rejects after `timeoutMs`, when the
   * agent exits first (with its error event if it sent one), and with `failOnError` on an error event.
   */
  private awaitEvent(
    match: (event: AgentEvent) => boolean,
    timeoutMs: number,
    words: { failOnError: boolean; timedOut: string; exitedBefore: string },
  ): Promise<AgentEvent> {
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
        } else if (words.failOnError && event.event === 'error') {
          cleanup();
          reject(this.failure(event));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new FeedpathError(ErrorCode.agentFailed, words.timedOut));
      }, timeoutMs);
      this.on('event', onEvent);
      void this.exited.then((code) => {
        if (this.events.some(match)) return;
        cleanup();
        const error = this.events.find((e) => e.event === 'error');
        reject(
          error
            ? this.failure(error)
            : new FeedpathError(
                ErrorCode.agentFailed,
                `${this.label} exited (code ${code}) before ${words.exitedBefore}`,
              ),
        );
      });
    });
  }

  /** Kills the agent at once (tests: a crash). */
  kill(): Promise<number | null> {
    return this.proc.kill();
  }

  private failure(event: AgentEvent): FeedpathError {
    const code = typeof event.code === 'string' ? event.code : ErrorCode.agentFailed;
    return new FeedpathError(
      (Object.values(ErrorCode) as string[]).includes(code) ? (code as ErrorCode) : ErrorCode.agentFailed,
      `${this.label}: ${String(event.message ?? 'failed')}`,
    );
  }
}

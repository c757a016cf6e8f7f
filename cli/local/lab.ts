/**
 * The world of a local run on one machine: the exchange simulator, the link emulators and the
 * agents, each a real process on loopback. The local workflow's Task handlers and `feedpath run`
 * drive it through the same lifecycle as the cloud: provision → start receiver → start forwarder →
 * (run) → stop agents → teardown.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AgentEvent } from '../../lib/agent';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import type { LocalRunOptions } from '../../lib/experiment';
import { DEFAULT_PROFILE, linkSpec, type LinkName, type Profile } from '../../lib/profile';
import { truthFileName } from '../../lib/lab-truth';
import { linkCompensationMs, measureLoopbackHop, type LabHops } from '../../lib/loopback-hop';
import { AgentProcess } from './agent-process';
import { ProcessTable } from './process-table';

const HOST = '127.0.0.1';
/** A local run fails rather than wait forever for an exchange it cannot reach. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface LabProgress {
  elapsedS: number;
  receiver?: AgentEvent;
  forwarder?: AgentEvent;
  exchange?: AgentEvent;
}

export class LocalLab {
  private readonly processes = new Map<string, AgentProcess>();
  private exchangeBase: string | undefined;
  private receiverPort: number | undefined;
  private readonly token = randomBytes(18).toString('base64url');
  readonly profile: Profile | undefined;
  /** logs/processes.json: pid and end of every process of the run. */
  private readonly table: ProcessTable;
  /** The lab's loopback-hop probe: run by provision() when the run has links, whose configs need it. */
  private hopsProbe: Promise<LabHops> | undefined;
  /** What the probe found and what each link takes off for it (run.json `lab`); undefined without links. */
  hops: LabHops | undefined;

  constructor(
    readonly runDir: string,
    readonly options: LocalRunOptions,
  ) {
    this.profile = options.profile ?? (options.exchange === undefined ? DEFAULT_PROFILE : undefined);
    this.table = new ProcessTable(join(runDir, 'logs'));
  }

  private get logDir(): string {
    return join(this.runDir, 'logs');
  }

  /** Whether the receiver holds the A/A control (a second direct connection): only with the baseline. */
  private get control(): boolean {
    return this.options.control && this.options.mode !== 'backbone';
  }

  /** How many exchange connections the run makes (a replay starts when all are open). */
  private get exchangeClients(): number {
    return (this.options.mode === 'paired' ? 2 : 1) + (this.control ? 1 : 0);
  }

  get exchange(): AgentProcess | undefined {
    return this.processes.get('exchange');
  }
  get receiver(): AgentProcess | undefined {
    return this.processes.get('receiver');
  }
  get forwarder(): AgentProcess | undefined {
    return this.processes.get('forwarder');
  }
  /** Every process started so far (the run watches them all: one dying degrades the run). */
  get all(): AgentProcess[] {
    return [...this.processes.values()];
  }

  /** Starts the exchange simulator (unless an external one is used) and the exchange-side links. */
  async provision(): Promise<void> {
    // The hop is measured before any agent starts (≈ 0.8 s): measured alongside their start-up it
    // came out lower than on the idle lab the run then is (processes kept awake by the start-up
    // do not pay the wake-up), and the links need it in their config.
    if (this.profile !== undefined) await (this.hopsProbe ??= this.measureHops());
    if (this.options.exchange !== undefined) {
      this.exchangeBase = this.options.exchange;
    } else {
      const symbols = [...new Set(this.options.streams.map((s) => s.split('@')[0] as string))];
      const source =
        this.options.replay !== undefined
          ? {
              kind: 'replay',
              file: this.options.replay,
              speed: this.options.speed,
              waitForClients: this.exchangeClients,
              waitForStart: true,
            }
          : { kind: 'synthetic', symbols, seed: this.options.seed, waitForStart: true };
      const { ready } = await this.spawn('exchange', 'exchange', { host: HOST, port: 0, source });
      this.exchangeBase = `ws://${HOST}:${Number(ready.port)}`;
    }
  }

  /** The exchange base URL for the agent on one side of `link`: through the link emulator when there is a profile. */
  private async exchangeUrlVia(link: LinkName): Promise<string> {
    const base = this.exchangeBase;
    if (base === undefined) throw new Error('provision() first');
    if (this.profile === undefined) return base;
    const target = new URL(base);
    if (target.protocol !== 'ws:') {
      throw new FeedpathError(
        ErrorCode.badInput,
        `--profile needs a plain ws:// exchange: relaying ${base} through the link emulators would break its TLS host check`,
      );
    }
    const port = await this.startLink(link, target.hostname, Number(target.port || 80));
    return `ws://${HOST}:${port}`;
  }

  /**
   * One loopback hop between idle processes on this machine (lib/loopback-hop.ts), and what each
   * link takes off for it: the figure, or 0 with `--no-hop-compensation` or when the probe failed
   * (the run goes on uncompensated; run.json says why).
   */
  private async measureHops(): Promise<LabHops> {
    const compensated = this.options.hopCompensation;
    try {
      // At the run's pace (a message every 10 ms, processes asleep in between), 70 round trips.
      const hop = await measureLoopbackHop({ messages: 70, intervalMs: 10 });
      this.hops = { compensated, hop, linkCompensationMs: compensated ? linkCompensationMs(hop) : 0 };
    } catch (error) {
      this.hops = { compensated, hop: null, linkCompensationMs: 0, problem: (error as Error).message };
    }
    return this.hops;
  }

  private async startLink(name: LinkName, host: string, port: number): Promise<number> {
    const spec = linkSpec(this.profile ?? { links: {} }, name);
    const hops = await (this.hopsProbe ??= this.measureHops());
    const { ready } = await this.spawn(`link-${name}`, 'link', {
      name,
      host: HOST,
      port: 0,
      target: { host, port },
      forward: spec,
      reverse: spec,
      compensationMs: hops.linkCompensationMs,
      seed: this.options.seed,
      truthFile: join(this.runDir, truthFileName(name)),
    });
    return Number(ready.port);
  }

  /** Starts the receiver (Frankfurt role) and, for the backbone, the forwarder→receiver link. */
  async startReceiver(): Promise<void> {
    const mode = this.options.mode;
    const exchangeUrl = mode === 'backbone' ? undefined : await this.exchangeUrlVia('exchange-receiver');
    // The control dials the same URL as the baseline: through the same exchange-receiver link, which
    // gives each connection its own delay line with the link's profile (the same emulated path).
    const { ready } = await this.spawn('receiver', 'receiver', {
      mode,
      control: this.control,
      exchangeUrl,
      streams: this.options.streams,
      host: HOST,
      port: 0,
      token: this.token,
      outDir: this.runDir,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    this.receiverPort = Number(ready.port);
  }

  /** Starts the forwarder (Tokyo role), connected to the receiver through its link. */
  async startForwarder(): Promise<void> {
    if (this.options.mode === 'baseline') return;
    if (this.receiverPort === undefined) throw new Error('startReceiver() first');
    const exchangeUrl = await this.exchangeUrlVia('exchange-forwarder');
    const receiverPort =
      this.profile === undefined
        ? this.receiverPort
        : await this.startLink('forwarder-receiver', HOST, this.receiverPort);
    await this.spawn('forwarder', 'forwarder', {
      exchangeUrl,
      streams: this.options.streams,
      receivers: [{ host: HOST, port: receiverPort }],
      token: this.token,
      outDir: this.runDir,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
  }

  /**
   * Waits until every path is connected end to end (receiver ← exchange, forwarder ← exchange,
   * receiver ← forwarder), then starts the simulator: both paths see every event from the first.
   */
  async connected(timeoutMs = CONNECT_TIMEOUT_MS + 5_000): Promise<void> {
    const progress = (event: AgentEvent): boolean => event.event === 'progress';
    const waits: Promise<AgentEvent>[] = [];
    if (this.options.mode !== 'backbone' && this.receiver) {
      waits.push(
        this.receiver.waitUntil(
          (e) =>
            progress(e) &&
            (e.exchange as { connected?: boolean } | undefined)?.connected === true &&
            (!this.control || (e.control as { connected?: boolean } | undefined)?.connected === true),
          this.control
            ? 'the receiver connected to the exchange (baseline and control)'
            : 'the receiver connected to the exchange',
          timeoutMs,
        ),
      );
    }
    if (this.forwarder) {
      waits.push(
        this.forwarder.waitUntil(
          (e) => progress(e) && e.exchange_connected === true && Number(e.receivers_connected) >= 1,
          'the forwarder connected to the exchange and the receiver',
          timeoutMs,
        ),
      );
    }
    await Promise.all(waits);
    this.exchange?.command('start');
  }

  /** The longest a message can still be in flight on a link of the profile, ms. */
  drainMs(): number {
    if (this.profile === undefined) return 500;
    const worst = Object.values(this.profile.links).reduce(
      (max, spec) => Math.max(max, spec ? spec.delayMs + 6 * spec.jitterMs : 0),
      0,
    );
    return 2 * worst + 500;
  }

  /**
   * Ends the measurement: the exchange stops first (no new events), what is in flight drains through
   * the links, then the forwarder and the receiver finish and write their files.
   */
  async stopAgents(): Promise<{ receiver?: AgentEvent; forwarder?: AgentEvent }> {
    await this.exchange?.stop();
    await new Promise((resolve) => setTimeout(resolve, this.drainMs()));
    const [forwarder, receiver] = await Promise.all([this.forwarder?.stop(), this.receiver?.stop()]);
    // The links close their ground truth (lab/<link>.csv) when they stop: before the analysis reads it.
    await Promise.all(
      [...this.processes].filter(([label]) => label.startsWith('link-')).map(([, p]) => p.stop()),
    );
    return { receiver, forwarder };
  }

  /** Stops everything still running. Safe to call more than once and after a failure. */
  async teardown(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop(3_000)));
  }

  private async spawn(label: string, agent: 'exchange' | 'link' | 'forwarder' | 'receiver', config: unknown) {
    const started = await AgentProcess.start(label, agent, config, { logDir: this.logDir });
    this.processes.set(label, started.process);
    this.table.add(agent, started.process);
    return started;
  }
}

/**
 * The world of a local run on one machine: the exchange simulator, the link emulators and the
 * agents, each a real process on loopback. The local workflow's Task handlers and `feedpath run`
 * drive it through the same lifecycle as the cloud: provision → start receiver → start forwarder →
 * (run) → stop agents → teardown.
 */
import { randomBytes } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { AgentEvent } from '../../lib/agent';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import type { LocalRunOptions } from '../../lib/experiment';
import {
  allLinkSpecs,
  DEFAULT_PROFILE,
  receiverLinkSpec,
  type LinkName,
  type Profile,
} from '../../lib/profile';
import { truthClientsFileName, truthFileName } from '../../lib/lab-truth';
import { receiverPrefix } from '../../lib/run-file';
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

/**
 * One receiver of the run: where its files go and how its processes are named. A run with one
 * receiver keeps today's layout (files in the run folder, processes `receiver`,
 * `link-exchange-receiver`); with several, each has `receivers/<name>/` and `-<name>` labels.
 */
export interface LabReceiver {
  /** The profile's name for it; null for the single receiver of an old-form profile. */
  name: string | null;
  dir: string;
  /** Added to its processes' labels: '' or `-<name>`. */
  suffix: string;
  port?: number;
}

/** The receivers a run's options ask for: `--receivers`, else every receiver of the profile, else one. */
function receiverNames(options: LocalRunOptions, profile: Profile | undefined): string[] | undefined {
  return options.receivers ?? (profile?.receivers ? Object.keys(profile.receivers) : undefined);
}

export class LocalLab {
  private readonly processes = new Map<string, AgentProcess>();
  private exchangeBase: string | undefined;
  /** Every receiver of the run, in the order they were asked for. */
  readonly receivers: LabReceiver[];
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
    const names = receiverNames(options, this.profile) ?? [];
    this.receivers =
      names.length > 1
        ? names.map((name) => ({ name, dir: join(runDir, receiverPrefix(name)), suffix: `-${name}` }))
        : [{ name: names[0] ?? null, dir: runDir, suffix: '' }];
  }

  /** Whether the run has several receivers (each with its own folder under `receivers/`). */
  get multi(): boolean {
    return this.receivers.length > 1;
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
    const perReceiver = this.options.mode === 'backbone' ? 0 : 1 + (this.control ? 1 : 0);
    return this.receivers.length * perReceiver + (this.options.mode === 'baseline' ? 0 : 1);
  }

  get exchange(): AgentProcess | undefined {
    return this.processes.get('exchange');
  }
  /** The (first) receiver: the only one of a single-receiver run. */
  get receiver(): AgentProcess | undefined {
    return this.receiverProcess(this.receivers[0] as LabReceiver);
  }
  receiverProcess(receiver: LabReceiver): AgentProcess | undefined {
    return this.processes.get(`receiver${receiver.suffix}`);
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
      const { ready } = await this.spawn('exchange', 'exchange', this.runDir, {
        host: HOST,
        port: 0,
        source,
      });
      this.exchangeBase = `ws://${HOST}:${Number(ready.port)}`;
    }
  }

  /** The exchange base URL for the agent on one side of `link`: through the link emulator when there is a profile. */
  private async exchangeUrlVia(link: LinkName, receiver?: LabReceiver): Promise<string> {
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
    const port = await this.startLink(link, target.hostname, Number(target.port || 80), receiver);
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

  /** Starts a link emulator; a receiver's own links write their truth and log in its folder. */
  private async startLink(
    name: LinkName,
    host: string,
    port: number,
    receiver?: LabReceiver,
  ): Promise<number> {
    const spec = receiverLinkSpec(this.profile ?? { links: {} }, receiver?.name ?? '', name);
    const hops = await (this.hopsProbe ??= this.measureHops());
    const dir = receiver?.dir ?? this.runDir;
    const { ready } = await this.spawn(`link-${name}${receiver?.suffix ?? ''}`, 'link', dir, {
      name,
      host: HOST,
      port: 0,
      target: { host, port },
      forward: spec,
      reverse: spec,
      compensationMs: hops.linkCompensationMs,
      seed: this.options.seed,
      truthFile: join(dir, truthFileName(name)),
    });
    return Number(ready.port);
  }

  /** Starts every receiver (Frankfurt role), each with its own exchange-receiver link. */
  async startReceivers(): Promise<void> {
    await Promise.all(this.receivers.map((receiver) => this.startReceiver(receiver)));
  }

  private async startReceiver(receiver: LabReceiver): Promise<void> {
    const mode = this.options.mode;
    const exchangeUrl =
      mode === 'backbone' ? undefined : await this.exchangeUrlVia('exchange-receiver', receiver);
    // The control dials the same URL as the baseline: through the same exchange-receiver link, which
    // gives each connection its own delay line with the link's profile (the same emulated path).
    const { ready } = await this.spawn(`receiver${receiver.suffix}`, 'receiver', receiver.dir, {
      mode,
      control: this.control,
      record: this.options.record,
      exchangeUrl,
      streams: this.options.streams,
      host: HOST,
      port: 0,
      token: this.token,
      outDir: receiver.dir,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    });
    receiver.port = Number(ready.port);
  }

  /** Starts the forwarder (Tokyo role), relaying to every receiver, each through its own link. */
  async startForwarder(): Promise<void> {
    if (this.options.mode === 'baseline') return;
    const exchangeUrl = await this.exchangeUrlVia('exchange-forwarder');
    const receivers = await Promise.all(
      this.receivers.map(async (receiver) => {
        if (receiver.port === undefined) throw new Error('startReceivers() first');
        const port =
          this.profile === undefined
            ? receiver.port
            : await this.startLink('forwarder-receiver', HOST, receiver.port, receiver);
        return { host: HOST, port };
      }),
    );
    await this.spawn('forwarder', 'forwarder', this.runDir, {
      exchangeUrl,
      streams: this.options.streams,
      receivers,
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
    for (const site of this.receivers) {
      const receiver = this.receiverProcess(site);
      if (this.options.mode === 'backbone' || receiver === undefined) continue;
      const who = site.name !== null && this.multi ? `the receiver ${site.name}` : 'the receiver';
      waits.push(
        receiver.waitUntil(
          (e) =>
            progress(e) &&
            (e.exchange as { connected?: boolean } | undefined)?.connected === true &&
            (!this.control || (e.control as { connected?: boolean } | undefined)?.connected === true),
          this.control
            ? `${who} connected to the exchange (baseline and control)`
            : `${who} connected to the exchange`,
          timeoutMs,
        ),
      );
    }
    if (this.forwarder) {
      const count = this.receivers.length;
      waits.push(
        this.forwarder.waitUntil(
          (e) => progress(e) && e.exchange_connected === true && Number(e.receivers_connected) >= count,
          count > 1
            ? `the forwarder connected to the exchange and all ${count} receivers`
            : 'the forwarder connected to the exchange and the receiver',
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
    const worst = allLinkSpecs(this.profile).reduce(
      (max, spec) => Math.max(max, spec.delayMs + 6 * spec.jitterMs),
      0,
    );
    return 2 * worst + 500;
  }

  /**
   * Ends the measurement: the exchange stops first (no new events), what is in flight drains through
   * the links, then the forwarder and the receiver finish and write their files.
   */
  async stopAgents(): Promise<void> {
    await this.exchange?.stop();
    await new Promise((resolve) => setTimeout(resolve, this.drainMs()));
    await Promise.all([
      this.forwarder?.stop(),
      ...this.receivers.map((receiver) => this.receiverProcess(receiver)?.stop()),
    ]);
    // The links close their ground truth (lab/<link>.csv) when they stop: before the analysis reads it.
    await Promise.all(
      [...this.processes].filter(([label]) => label.startsWith('link-')).map(([, p]) => p.stop()),
    );
    if (this.multi) await this.shareForwarderTruth();
  }

  /**
   * Each receiver's lab check needs the truth of the whole backbone, whose first link (exchange →
   * forwarder) all receivers share: a copy of it goes into every receiver's `lab/`.
   */
  private async shareForwarderTruth(): Promise<void> {
    const files = [truthFileName('exchange-forwarder'), truthClientsFileName('exchange-forwarder')];
    await Promise.all(
      this.receivers.flatMap((receiver) =>
        files.map((file) =>
          copyFile(join(this.runDir, file), join(receiver.dir, file)).catch(() => undefined),
        ),
      ),
    );
  }

  /** Stops everything still running. Safe to call more than once and after a failure. */
  async teardown(): Promise<void> {
    await Promise.all([...this.processes.values()].map((p) => p.stop(3_000)));
  }

  /** Starts a process whose log goes to `<dir>/logs/` (the run's or a receiver's folder). */
  private async spawn(
    label: string,
    agent: 'exchange' | 'link' | 'forwarder' | 'receiver',
    dir: string,
    config: unknown,
  ) {
    const logDir = join(dir, 'logs');
    const started = await AgentProcess.start(label, agent, config, { logDir });
    this.processes.set(label, started.process);
    this.table.add(agent, started.process, relative(this.logDir, join(logDir, `${label}.log`)));
    return started;
  }
}

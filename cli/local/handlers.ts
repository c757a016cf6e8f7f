/**
 * The workflow's Task states, done on this machine: what `feedpath run` hands the local interpreter
 * in place of the Lambdas. "Sites" are processes on loopback: provisioning starts the exchange
 * simulator, a site is ready at once, and starting an agent spawns it (LocalLab). The shapes in and
 * out are the Lambdas' own (lib/cloud/contract.ts), so the same definition drives both.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentEvent } from '../../lib/agent';
import type { AnalyzeReceiversResult } from '../../lib/analysis/receivers';
import type { ConnectionRecord } from '../../lib/agent-files';
import type { AgentCommand, DescribeSitesResult, SiteReady } from '../../lib/cloud/contract';
import { AgentFailedError } from '../../lib/cloud/errors';
import type { ExperimentInput } from '../../lib/cloud/input';
import { planRun, type RunPlan } from '../../lib/cloud/run';
import { ErrorCode, FeedpathError, isFeedpathError } from '../../lib/errors';
import type { LocalRunOptions } from '../../lib/experiment';
import { projectVersion } from '../../lib/project-files';
import { readConnections } from '../../lib/run-connections';
import { LocalFolderStore } from '../../lib/store/local';
import {
  formatRunFile,
  RUN_FILE,
  statusWith,
  type RunCause,
  type RunFile,
  type RunStatus,
} from '../../lib/run-file';
import { analyzeCommand, type AnalyzeResult as LocalAnalysis } from '../analyze';
import type { Progress } from '../progress';
import type { LocalTaskHandlers } from '../workflow';
import { LocalLab } from './lab';
import { analyzeLocalReceivers } from './receivers';
import { Measurement, type EndedBy } from './measurement';

/** The longest one RunPollAgents call waits for the measurement to end (the Task times out at 60 s). */
export const LOCAL_POLL_MS = 45_000;
/** How many polls the definition allows (POLL.run.maxPolls), less a margin. */
const LOCAL_POLLS = 36;
/** RunExperiment waits all of the duration but what the polls can cover (ends of replays are seen in polls). */
export function localRunWaitMs(durationSeconds: number): number {
  return Math.max(0, durationSeconds * 1000 - LOCAL_POLLS * LOCAL_POLL_MS);
}

const LOCAL_DEPLOYMENT = { stage: 'local', bucket: 'local', bucketRegion: 'local' };

/** What the local run found out, for the command to print at the end. */
export interface LocalRunState {
  runId?: string;
  runDir?: string;
  endedBy?: EndedBy;
  analysis?: LocalAnalysis;
  /** A run with several receivers: each one's analysis and the matrix report (instead of `analysis`). */
  receivers?: AnalyzeReceiversResult;
  replay?: AgentEvent;
  /** What went wrong during the measurement (a process died, a path went silent). */
  causes: RunCause[];
  /** The agents' connections (from their metrics), once they have stopped. */
  connections?: ConnectionRecord[];
}

/** The experiment the definition sees: the cloud input's fields a local run has. */
export function workflowInput(options: LocalRunOptions): Record<string, unknown> {
  return {
    durationSeconds: options.durationSeconds,
    streams: options.streams,
    mode: options.mode,
    control: options.control,
    record: options.record,
    ...(options.label !== undefined ? { label: options.label } : {}),
  };
}

export class LocalHandlers implements LocalTaskHandlers {
  lab: LocalLab | undefined;
  measurement: Measurement | undefined;
  readonly state: LocalRunState = { causes: [] };
  private readonly startedAt = new Date();

  constructor(
    private readonly options: LocalRunOptions,
    private readonly progress: Progress,
  ) {}

  private get theLab(): LocalLab {
    if (this.lab === undefined) throw new Error('PrepareRun has not run');
    return this.lab;
  }

  /**
   * PrepareRun: plans the run as the cloud does (same run id scheme, same stack names); the local
   * run keeps its files in `<out>/<runId>/` and may be shorter than the cloud's 10 s minimum.
   */
  async prepare(event: Parameters<LocalTaskHandlers['prepare']>[0]): Promise<RunPlan> {
    const input = { exchangeUrl: this.options.exchange ?? 'ws://127.0.0.1', ...workflowInput(this.options) };
    const plan = planRun(input as ExperimentInput, LOCAL_DEPLOYMENT, event.execution);
    const runDir = resolve(this.options.out, plan.runId);
    await mkdir(runDir, { recursive: true });
    this.lab = new LocalLab(runDir, this.options);
    this.state.runId = plan.runId;
    this.state.runDir = runDir;
    await writeFile(
      join(runDir, 'input.json'),
      `${JSON.stringify({ runId: plan.runId, ...this.options, profile: this.lab.profile ?? null }, null, 2)}\n`,
    );
    return plan;
  }

  async provisionSites(event: { run: RunPlan }) {
    const o = this.options;
    const world =
      o.exchange !== undefined
        ? `exchange ${o.exchange}`
        : o.replay !== undefined
          ? `replay of ${o.replaySource ?? o.replay} at ${o.speed}×`
          : 'exchange simulator';
    this.progress.step(`provision: ${world}${this.theLab.profile ? ', link emulators' : ''}`);
    await this.theLab.provision();
    return {
      stacks: event.run.sites.map((site) => ({
        role: site.role,
        region: 'local',
        stackName: site.stackName,
        status: 'CREATE_COMPLETE',
      })),
    };
  }

  async describeSites(event: { run: RunPlan }): Promise<DescribeSitesResult> {
    const sites: SiteReady[] = event.run.sites.map((site) => ({
      role: site.role,
      region: 'local',
      stackName: site.stackName,
      status: 'CREATE_COMPLETE',
      cidr: '127.0.0.0/8',
      instanceId: `local-${site.role}`,
      privateIp: '127.0.0.1',
      vpcId: 'loopback',
      routeTableId: 'loopback',
      availabilityZoneId: 'loopback',
    }));
    return { ready: true, sites };
  }

  async connectSites() {
    return { connected: true, peeringConnectionId: 'loopback' };
  }

  async connectAgents(event: { sites: SiteReady[] }) {
    return {
      online: true,
      instances: event.sites.map((s) => ({ role: s.role, instanceId: s.instanceId, pingStatus: 'Online' })),
    };
  }

  async startAgent(event: { run: RunPlan; role: 'receiver' | 'forwarder' }): Promise<AgentCommand> {
    const lab = this.theLab;
    if (event.role === 'receiver') {
      const names = lab.multi ? `s ${lab.receivers.map((r) => r.name).join(', ')}` : '';
      this.progress.step(`start receiver${names} (${this.options.mode})`);
      await lab.startReceivers();
    } else {
      const count = lab.receivers.length;
      this.progress.step(count > 1 ? `start forwarder (relaying to ${count} receivers)` : 'start forwarder');
      await lab.startForwarder();
    }
    // The measurement starts once the last agent of the run is up and every path is connected.
    const last = event.run.backbone ? 'forwarder' : 'receiver';
    if (event.role === last) {
      await lab.connected();
      const o = this.options;
      this.progress.step(
        o.replay !== undefined
          ? `run: ${o.streams.join(', ')} until the capture ends (at most ${o.durationSeconds} s)`
          : `run: ${o.streams.join(', ')} for ${o.durationSeconds} s`,
      );
      this.measurement = new Measurement(lab, o.durationSeconds, this.progress);
    }
    const command = {
      role: event.role,
      region: 'local',
      instanceId: `local-${event.role}`,
      commandId: `local-${event.role}`,
    };
    // RunReceiver's result lists every receiver's command (lib/cloud/contract.ts); here the lab's one.
    return event.role === 'receiver' ? { ...command, receivers: [command] } : command;
  }

  /** RunPollAgents: done once the measurement has ended and the agents have written their files. */
  async pollAgents(event: { agents: { receiver?: AgentCommand; forwarder?: AgentCommand } }) {
    const measurement = this.measurement;
    if (measurement === undefined) throw new AgentFailedError('the agents were never started');
    const outcome = await measurement.waitForEnd(LOCAL_POLL_MS);
    if (outcome === undefined) return { done: false, agents: roles(event.agents, 'InProgress') };
    this.state.endedBy = outcome.endedBy;
    this.state.causes = outcome.causes;
    this.state.replay = this.theLab.exchange?.events.find((e) => e.event === 'finished');
    this.progress.step(
      outcome.endedBy === 'replay-finished'
        ? `the capture ended: ${describeReplay(this.state.replay)}`
        : outcome.endedBy === 'interrupted'
          ? 'interrupted: stopping, keeping what was recorded (Ctrl-C again stops at once)'
          : outcome.endedBy === 'receiver-stopped'
            ? 'the receiver stopped: keeping what it recorded'
            : 'stopping: draining the links',
    );
    await this.theLab.stopAgents();
    this.state.connections = await this.readConnections();
    // The analysis reads the run's status from run.json: the verdict starts with it.
    await this.writeRunFile(this.measuredStatus());
    return { done: true, agents: roles(event.agents, 'Success') };
  }

  /** Every agent's connections: the forwarder's in the run folder, each receiver's in its own. */
  private async readConnections(): Promise<ConnectionRecord[]> {
    const lab = this.theLab;
    const receivers = lab.multi ? lab.receivers.map((r) => r.name as string) : [];
    return readConnections(new LocalFolderStore(lab.runDir), '', receivers);
  }

  async analyze(event: { run: RunPlan }) {
    const runDir = this.state.runDir as string;
    this.progress.step(`analyze: ${runDir}`);
    if (!this.theLab.multi) {
      return this.analyzed(event.run, runDir, 'no event was recorded', async () => {
        const analysis = await analyzeCommand(runDir, {});
        this.state.analysis = analysis;
        return { files: analysis.files, verdict: analysis.verdict };
      });
    }
    // Several receivers: each receiver's report and the matrix report at the top.
    const names = this.theLab.receivers.map((r) => r.name as string);
    return this.analyzed(event.run, runDir, 'no receiver recorded an event', async () => {
      const result = await analyzeLocalReceivers(runDir, names);
      this.state.receivers = result;
      return { files: result.files, verdict: result.matrix.overall };
    });
  }

  /**
   * The analyze step's output for the workflow, from `analysis`; `nothing` says what a run without
   * data lacked.
   */
  private async analyzed(
    run: RunPlan,
    runDir: string,
    nothing: string,
    analysis: () => Promise<{ files: AnalyzeReceiversResult['files']; verdict: string }>,
  ) {
    let result: Awaited<ReturnType<typeof analysis>>;
    try {
      result = await analysis();
    } catch (error) {
      // The workflow keeps only the message: the code goes in it, for the command's one line.
      if (isFeedpathError(error) && error.code === ErrorCode.nothingToAnalyze) {
        throw new FeedpathError(
          error.code,
          `not enough data: ${nothing} in ${this.options.durationSeconds} s (${error.message}) [${error.code}]`,
        );
      }
      throw error;
    }
    return {
      runId: run.runId,
      bucket: 'local',
      prefix: runDir,
      report: {
        json: result.files.reportJson,
        markdown: result.files.reportMarkdown,
        html: result.files.reportHtml,
      },
      verdict: result.verdict,
    };
  }

  /** The status the measurement gives the run (before the analysis adds what the data shows). */
  measuredStatus(): RunStatus {
    return statusWith(this.state.endedBy === 'interrupted' ? 'interrupted' : 'succeeded', this.state.causes);
  }

  /** The run's run.json as it stands (lib/run-file.ts); null before PrepareRun made the folder. */
  runFile(status: RunStatus, extra: Partial<RunFile> = {}): RunFile | null {
    const { runId, endedBy, replay } = this.state;
    if (runId === undefined) return null;
    const o = this.options;
    return {
      runId,
      where: 'local',
      host: hostname(),
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      endedBy: endedBy ?? null,
      status,
      causes: this.state.causes,
      mode: o.mode,
      streams: o.streams,
      regions: { forwarder: 'local', receiver: 'local' },
      profile: this.lab?.profile ?? null,
      // Several receivers: their names (their files are under receivers/<name>/).
      ...(this.lab?.multi === true
        ? { receivers: this.lab.receivers.map((r) => ({ name: r.name as string, region: 'local' })) }
        : {}),
      // The links' hop compensation: what was measured and taken off (absent without links).
      ...(this.lab?.hops ? { lab: this.lab.hops } : {}),
      replay: replay
        ? { file: o.replaySource ?? o.replay, speed: o.speed, events: replay.events, skipped: replay.skipped }
        : null,
      versions: { feedpath: projectVersion(), node: process.version },
      ...(this.state.connections === undefined ? {} : { connections: this.state.connections }),
      ...extra,
    };
  }

  /** Writes run.json into the run's folder (nothing before PrepareRun). */
  async writeRunFile(status: RunStatus, extra: Partial<RunFile> = {}): Promise<void> {
    const run = this.runFile(status, extra);
    if (run === null || this.state.runDir === undefined) return;
    await writeFile(join(this.state.runDir, RUN_FILE), formatRunFile(run));
  }

  async teardown(event: { run: RunPlan }) {
    this.measurement?.cancel();
    await this.lab?.teardown();
    return { done: true, remaining: [], deleted: event.run.sites.map((s) => s.stackName) };
  }
}

function roles(agents: { receiver?: AgentCommand; forwarder?: AgentCommand }, status: string) {
  return Object.values(agents)
    .filter((a): a is AgentCommand => a !== undefined)
    .map((a) => ({ role: a.role, status }));
}

/** What the simulator reported of a finished replay: events sent, lines skipped. */
export function describeReplay(finished: AgentEvent | undefined): string {
  const skipped = (finished?.skipped ?? {}) as { nonStream?: number; malformed?: number };
  const count = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const nonStream = count(skipped.nonStream);
  return (
    `${count(finished?.events).toLocaleString('en-US')} events replayed, ` +
    `${nonStream} ${nonStream === 1 ? 'line' : 'lines'} skipped (not a stream message), ` +
    `${count(skipped.malformed)} malformed`
  );
}

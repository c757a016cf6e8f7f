/**
 * The measurement phase of a local run: it ends when the duration is reached, when a replay has sent
 * its whole capture, on Ctrl-C (what was recorded is kept and analysed), or when the receiver stops.
 * A process that dies or a path that goes silent does not end it: the run goes on with what still
 * works and the cause (what, when, how) makes it degraded. Meanwhile a status line shows what the
 * receiver records.
 */
import type { AgentEvent } from '../../lib/agent';
import type { RunCause } from '../../lib/run-file';
import type { Progress } from '../progress';
import type { AgentProcess } from './agent-process';
import type { LocalLab } from './lab';

/** `receiver-stopped`: the receiver, which records both paths, ended early (nothing more to measure). */
export type EndedBy = 'duration' | 'replay-finished' | 'interrupted' | 'receiver-stopped';

export interface MeasurementOutcome {
  endedBy: EndedBy;
  /** What went wrong while the measurement went on (a process died, a path went silent), in order. */
  causes: RunCause[];
}

/**
 * A path is silent when its receive counter has not moved for this long while the other path's did
 * (the receiver reports every second). Three reports: one late report on a busy machine is not
 * silence, and a dead link shows within a few seconds.
 */
export const SILENT_PATH_MS = 3_000;

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** One status line from the receiver's latest progress event. */
export function describeProgress(
  elapsedS: number,
  durationS: number,
  receiver: AgentEvent | undefined,
): string {
  const head = `[${Math.floor(elapsedS)}s/${durationS}s]`;
  if (receiver === undefined) return `${head} waiting for the first events…`;
  const paths = receiver.paths as Record<string, Record<string, unknown>> | undefined;
  if (paths === undefined) return head;
  const parts = Object.entries(paths).map(([name, p]) => {
    const lost = p.lost === null || p.lost === undefined ? 'loss n/a' : `${num(p.lost)} lost`;
    return `${name} ${num(p.samples).toLocaleString('en-US')} events (${lost}, ${num(p.msgs_per_s).toFixed(0)}/s)`;
  });
  return `${head} ${parts.join('  ')}`;
}

/**
 * The status line of a run with several receivers: each receiver's events per path, compactly
 * (`[5s/20s] frankfurt baseline 512 backbone 512 · london …`); loss shows only where there is any.
 */
function describeReceiversProgress(
  elapsedS: number,
  durationS: number,
  receivers: [name: string, latest: AgentEvent | undefined][],
): string {
  const head = `[${Math.floor(elapsedS)}s/${durationS}s]`;
  const parts = receivers.map(([name, event]) => {
    const paths = event?.paths as Record<string, Record<string, unknown>> | undefined;
    if (paths === undefined) return `${name} waiting`;
    const counts = Object.entries(paths).map(([path, p]) => {
      const lost = num(p.lost) > 0 ? ` (${num(p.lost)} lost)` : '';
      return `${path} ${num(p.samples).toLocaleString('en-US')}${lost}`;
    });
    return `${name} ${counts.join(' ')}`;
  });
  return `${head} ${parts.join(' · ')}`;
}

/** How a process of the run is named to the user: `link-forwarder-receiver` → `link forwarder-receiver`. */
export function processName(label: string): string {
  return label.startsWith('link-') ? `link ${label.slice('link-'.length)}` : label;
}

/**
 * Watches the receiver's per-path counters: a path whose count stops while another's keeps rising
 * went silent (once per path; the time is when it last moved).
 */
export class PathSilenceWatch {
  private readonly last = new Map<string, { count: number; movedAt: number }>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly startedAt: number,
    private readonly silentMs = SILENT_PATH_MS,
  ) {}

  /** Feeds one progress event's `paths` at time `now` (ms); returns the paths that just went silent. */
  update(paths: Record<string, { samples?: unknown }>, now: number): { path: string; since: number }[] {
    for (const [path, p] of Object.entries(paths)) {
      const count = num(p.samples);
      const seen = this.last.get(path);
      if (seen === undefined) this.last.set(path, { count, movedAt: count > 0 ? now : this.startedAt });
      else if (count > seen.count) this.last.set(path, { count, movedAt: now });
    }
    const flowing = [...this.last.values()].some((p) => now - p.movedAt < this.silentMs);
    if (!flowing) return [];
    const silent: { path: string; since: number }[] = [];
    for (const [path, p] of this.last) {
      if (now - p.movedAt >= this.silentMs && !this.reported.has(path)) {
        this.reported.add(path);
        silent.push({ path, since: p.movedAt });
      }
    }
    return silent;
  }
}

export class Measurement {
  private readonly ended: Promise<MeasurementOutcome>;
  private readonly cleanups: (() => void)[] = [];
  private readonly causes: RunCause[] = [];
  private finish!: (endedBy: EndedBy) => void;
  private done = false;
  private readonly startedAt = Date.now();

  constructor(lab: LocalLab, durationS: number, progress: Progress) {
    this.ended = new Promise((resolve) => {
      this.finish = (endedBy) => {
        if (this.done) return;
        this.done = true;
        this.cancel();
        progress.clear();
        resolve({ endedBy, causes: [...this.causes] });
      };
    });
    const started = this.startedAt;
    const receivers = lab.receivers
      .map((site) => ({ name: site.name ?? 'receiver', process: lab.receiverProcess(site) }))
      .filter((r): r is { name: string; process: AgentProcess } => r.process !== undefined);
    const latest = new Map<string, AgentEvent>();
    let receiversStopped = 0;
    // Anything that stops during the run is a cause (the run goes on with what still works); what
    // the run stops itself (stopRequested) is not.
    for (const agent of lab.all) {
      void agent.exited.then(() => {
        if (this.done || agent.stopRequested) return;
        const at = Date.now();
        const error = agent.events.find((e) => e.event === 'error');
        const name = processName(agent.label);
        const detail =
          `${name} ${agent.describeExit() ?? 'stopped'} at ${this.elapsed(at)}` +
          (error
            ? ` (${String(error.message)}${typeof error.code === 'string' ? ` [${error.code}]` : ''})`
            : '');
        this.causes.push({ what: name, at: new Date(at).toISOString(), detail });
        progress.warn(detail);
        // The receivers record both paths: without them there is nothing left to measure (with
        // several, the others go on and the run is degraded).
        if (receivers.some((r) => r.process === agent) && ++receiversStopped === receivers.length)
          this.finish('receiver-stopped');
      });
    }
    const listen = (agent: AgentProcess | undefined, onEvent: (event: AgentEvent) => void): void => {
      if (agent === undefined) return;
      agent.on('event', onEvent);
      this.cleanups.push(() => agent.off('event', onEvent));
    };
    const warn =
      (who: string) =>
      (event: AgentEvent): void => {
        if (event.event === 'warning') progress.warn(`${who}: ${String(event.message)}`);
      };
    for (const receiver of receivers) {
      // With several receivers, each one's paths are watched on their own and named with it.
      const who = lab.multi ? `${receiver.name} ` : '';
      const silence = new PathSilenceWatch(started);
      listen(receiver.process, (event) => {
        if (event.event === 'progress') {
          latest.set(receiver.name, event);
          const paths = event.paths as Record<string, { samples?: unknown }> | undefined;
          for (const { path, since } of silence.update(paths ?? {}, Date.now())) {
            const others = Object.keys(paths ?? {}).filter((p) => p !== path);
            const detail = `${who}${path} path went silent at about ${this.elapsed(since)} while ${others.join(', ')} kept flowing`;
            this.causes.push({ what: `${who}${path} path`, at: new Date(since).toISOString(), detail });
            progress.warn(detail);
          }
        }
        warn(lab.multi ? `receiver ${receiver.name}` : 'receiver')(event);
      });
    }
    listen(lab.forwarder, warn('forwarder'));
    listen(lab.exchange, (event) => {
      if (event.event === 'finished') this.finish('replay-finished');
    });
    const status = (): string => {
      const elapsedS = (Date.now() - started) / 1000;
      return lab.multi
        ? describeReceiversProgress(
            elapsedS,
            durationS,
            receivers.map((r) => [r.name, latest.get(r.name)]),
          )
        : describeProgress(elapsedS, durationS, latest.get(receivers[0]?.name ?? ''));
    };
    const ticker = setInterval(() => progress.status(status()), 250);
    const timer = setTimeout(() => this.finish('duration'), durationS * 1000);
    this.cleanups.push(
      () => clearInterval(ticker),
      () => clearTimeout(timer),
    );
  }

  /** Ends the measurement now (Ctrl-C): what was recorded is kept and analysed. */
  interrupt(): void {
    if (this.done) return;
    const at = Date.now();
    this.causes.push({
      what: 'user',
      at: new Date(at).toISOString(),
      detail: `stopped by Ctrl-C at ${this.elapsed(at)}; what was recorded until then is analysed`,
    });
    this.finish('interrupted');
  }

  /** Time `at` (ms since the epoch) as seconds into the measurement: `12.3 s`. */
  private elapsed(at: number): string {
    return `${((at - this.startedAt) / 1000).toFixed(1)} s`;
  }

  /** Whether the measurement is still going. */
  get running(): boolean {
    return !this.done;
  }

  /** The outcome, or undefined if the measurement is still going after `maxMs`. */
  waitForEnd(maxMs: number): Promise<MeasurementOutcome | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), maxMs);
    });
    return Promise.race([this.ended, timeout]).finally(() => clearTimeout(timer));
  }

  /** Stops watching (the run is over or being torn down). */
  cancel(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}

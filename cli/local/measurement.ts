/**
 * The measurement phase of a local run: it ends when the duration is reached, when a replay has sent
 * its whole capture, on Ctrl-C (what was recorded is kept and analysed), or when an agent stops on
 * its own (a failure). Meanwhile a status line shows what the receiver records.
 */
import type { AgentEvent } from '../../lib/agent';
import type { Progress } from '../progress';
import type { AgentProcess } from './agent-process';
import type { LocalLab } from './lab';

export type EndedBy = 'duration' | 'replay-finished' | 'interrupted';

export interface MeasurementOutcome {
  endedBy: EndedBy;
  /** An agent that stopped during the run, with its own error message. */
  failure?: { agent: string; message: string; code?: string };
}

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

export class Measurement {
  private readonly ended: Promise<MeasurementOutcome>;
  private readonly cleanups: (() => void)[] = [];
  private finish!: (outcome: MeasurementOutcome) => void;
  private done = false;

  constructor(lab: LocalLab, durationS: number, progress: Progress) {
    this.ended = new Promise((resolve) => {
      this.finish = (outcome) => {
        if (this.done) return;
        this.done = true;
        this.cancel();
        progress.clear();
        resolve(outcome);
      };
    });
    const started = Date.now();
    let latest: AgentEvent | undefined;
    const listen = (agent: AgentProcess | undefined, onEvent: (event: AgentEvent) => void): void => {
      if (agent === undefined) return;
      agent.on('event', onEvent);
      this.cleanups.push(() => agent.off('event', onEvent));
      void agent.exited.then((code) => {
        const error = agent.events.find((e) => e.event === 'error');
        this.finish({
          endedBy: 'interrupted',
          failure: {
            agent: agent.label,
            message: `${agent.label} stopped during the run (exit ${code})${error ? `: ${String(error.message)}` : ''}`,
            ...(typeof error?.code === 'string' ? { code: error.code } : {}),
          },
        });
      });
    };
    const warn =
      (who: string) =>
      (event: AgentEvent): void => {
        if (event.event === 'warning') progress.warn(`${who}: ${String(event.message)}`);
      };
    listen(lab.receiver, (event) => {
      if (event.event === 'progress') latest = event;
      warn('receiver')(event);
    });
    listen(lab.forwarder, warn('forwarder'));
    listen(lab.exchange, (event) => {
      if (event.event === 'finished') this.finish({ endedBy: 'replay-finished' });
    });
    const ticker = setInterval(
      () => progress.status(describeProgress((Date.now() - started) / 1000, durationS, latest)),
      250,
    );
    const timer = setTimeout(() => this.finish({ endedBy: 'duration' }), durationS * 1000);
    const onSigint = (): void => this.finish({ endedBy: 'interrupted' });
    process.once('SIGINT', onSigint);
    this.cleanups.push(
      () => clearInterval(ticker),
      () => clearTimeout(timer),
      () => process.off('SIGINT', onSigint),
    );
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

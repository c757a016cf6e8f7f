/** `feedpath run`: the whole experiment on this machine, from provisioning to the report. */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { AgentEvent } from '../lib/agent';
import { newRunId, type LocalRunOptions } from '../lib/experiment';
import { projectVersion } from '../lib/paths';
import { LocalLab } from './local/lab';
import type { Progress } from './progress';

export interface RunOutcome {
  runId: string;
  runDir: string;
  /** Why the measurement ended: duration reached, replay finished, or interrupted. */
  endedBy: 'duration' | 'replay-finished' | 'interrupted';
  receiver?: AgentEvent;
  forwarder?: AgentEvent;
  /** The simulator's report of a replay: events sent, lines skipped. */
  replay?: AgentEvent;
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
    return `${name} ${num(p.samples)} events (${lost}, ${num(p.msgs_per_s).toFixed(0)}/s)`;
  });
  return `${head} ${parts.join('  ')}`;
}

/** Waits for the end of the measurement: duration, end of a replay, Ctrl-C, or an agent failing. */
function measurement(
  lab: LocalLab,
  options: LocalRunOptions,
  progress: Progress,
): Promise<RunOutcome['endedBy']> {
  return new Promise((resolveEnd, reject) => {
    const started = Date.now();
    let latest: AgentEvent | undefined;
    const onReceiverEvent = (event: AgentEvent): void => {
      if (event.event === 'progress') latest = event;
      if (event.event === 'warning') progress.warn(`receiver: ${String(event.message)}`);
    };
    const onExchangeEvent = (event: AgentEvent): void => {
      if (event.event === 'finished') finish('replay-finished');
    };
    const onForwarderEvent = (event: AgentEvent): void => {
      if (event.event === 'warning') progress.warn(`forwarder: ${String(event.message)}`);
    };
    const onSigint = (): void => finish('interrupted');
    const ticker = setInterval(() => {
      progress.status(describeProgress((Date.now() - started) / 1000, options.durationSeconds, latest));
    }, 250);
    const timer = setTimeout(() => finish('duration'), options.durationSeconds * 1000);
    lab.receiver?.on('event', onReceiverEvent);
    lab.forwarder?.on('event', onForwarderEvent);
    lab.exchange?.on('event', onExchangeEvent);
    process.once('SIGINT', onSigint);
    let done = false;
    function finish(how: RunOutcome['endedBy'], error?: Error): void {
      if (done) return;
      done = true;
      clearInterval(ticker);
      clearTimeout(timer);
      process.off('SIGINT', onSigint);
      lab.receiver?.off('event', onReceiverEvent);
      lab.forwarder?.off('event', onForwarderEvent);
      lab.exchange?.off('event', onExchangeEvent);
      progress.clear();
      if (error) reject(error);
      else resolveEnd(how);
    }
    for (const agent of [lab.receiver, lab.forwarder, lab.exchange]) {
      void agent?.exited.then((code) => {
        if (!done) {
          const failure = agent.events.find((e) => e.event === 'error');
          finish(
            'interrupted',
            new Error(
              `${agent.label} stopped during the run (exit ${code})${failure ? `: ${String(failure.message)}` : ''}`,
            ),
          );
        }
      });
    }
  });
}

/** Runs the experiment locally and returns where its files are. Analysis is the caller's next step. */
export async function runLocal(options: LocalRunOptions, progress: Progress): Promise<RunOutcome> {
  const runId = newRunId();
  const runDir = resolve(options.out, runId);
  await mkdir(runDir, { recursive: true });
  const lab = new LocalLab(runDir, options);
  const startedAt = new Date();
  await writeFile(
    join(runDir, 'input.json'),
    `${JSON.stringify({ runId, ...options, profile: lab.profile ?? null }, null, 2)}\n`,
  );
  let outcome: RunOutcome;
  try {
    const world =
      options.exchange !== undefined
        ? `exchange ${options.exchange}`
        : options.replay !== undefined
          ? `replay of ${options.replay} at ${options.speed}×`
          : 'exchange simulator';
    progress.step(`provision: ${world}${lab.profile ? ', link emulators' : ''}`);
    await lab.provision();
    progress.step(`start receiver (${options.mode})`);
    await lab.startReceiver();
    if (options.mode !== 'baseline') {
      progress.step('start forwarder');
      await lab.startForwarder();
    }
    progress.step(`run: ${options.streams.join(', ')} for ${options.durationSeconds} s`);
    const endedBy = await measurement(lab, options, progress);
    progress.step(
      endedBy === 'replay-finished' ? 'the capture ended: stopping' : 'stopping: draining the links',
    );
    const { receiver, forwarder } = await lab.stopAgents();
    const replay = lab.exchange?.events.find((e) => e.event === 'finished');
    outcome = { runId, runDir, endedBy, receiver, forwarder, replay };
  } finally {
    await lab.teardown();
  }
  await writeFile(
    join(runDir, 'run.json'),
    `${JSON.stringify(
      {
        runId,
        where: 'local',
        host: hostname(),
        startedAt: startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        endedBy: outcome.endedBy,
        mode: options.mode,
        streams: options.streams,
        regions: { forwarder: 'local', receiver: 'local' },
        profile: lab.profile ?? null,
        replay: outcome.replay
          ? { file: options.replay, speed: options.speed, ...outcome.replay, event: undefined }
          : null,
        versions: { feedpath: projectVersion(), node: process.version },
      },
      null,
      2,
    )}\n`,
  );
  return outcome;
}

/**
 * `feedpath run` when something breaks: the built command with real agent processes on loopback,
 * one of them killed mid-run (found through the run's logs/processes.json, as a user would), Ctrl-C
 * twice, usage errors, and a run too short for a verdict. Rebuild dist/ first
 * (`node scripts/build.mjs`).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTableSchema, type ProcessEntry } from '../cli/local/process-table';
import { EXIT_CODES, runFileSchema, type RunFile } from '../lib/run-file';
import { feedpath, startCli, type RunningCli } from './feedpath-cli';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 100 ms until it returns a value (or fails after `timeoutMs`). */
async function until<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function runDirs(out: string): string[] {
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .filter((name) => existsSync(join(out, name, 'input.json')))
    .map((name) => join(out, name));
}

function processes(dir: string): ProcessEntry[] {
  const file = join(dir, 'logs', 'processes.json');
  if (!existsSync(file)) return [];
  try {
    return processTableSchema.parse(JSON.parse(readFileSync(file, 'utf8'))).processes;
  } catch {
    return []; // being rewritten
  }
}

function runFile(dir: string): RunFile {
  return runFileSchema.parse(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')));
}

function summary(dir: string, path: string): { events_lost: number | null } {
  return JSON.parse(readFileSync(join(dir, `${path}-results.json`), 'utf8')) as {
    events_lost: number | null;
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a run, waits until it measures, and returns it with its folder. */
async function measuringRun(out: string, args: string[]): Promise<RunningCli & { dir: string }> {
  const run = startCli(['run', '--out', out, ...args]);
  await until('the measurement to start', () => (/• run: /.test(run.stderr()) ? true : undefined));
  const dir = await until('the run folder', () => runDirs(out)[0]);
  return { ...run, dir };
}

describe('feedpath run, degraded', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'feedpath-degraded-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it.each([
    { label: 'link-exchange-receiver', name: 'link exchange-receiver', lostOn: 'baseline' },
    { label: 'link-forwarder-receiver', name: 'link forwarder-receiver', lostOn: 'backbone' },
    { label: 'forwarder', name: 'forwarder', lostOn: 'backbone' },
    { label: 'exchange', name: 'exchange', lostOn: null },
  ])(
    'marks the run degraded when the $label process is killed mid-run',
    async ({ label, name, lostOn }) => {
      const run = await measuringRun(out, ['--duration', '7']);
      await sleep(2_000);
      const victim = processes(run.dir).find((p) => p.label === label);
      expect(victim?.pid).toEqual(expect.any(Number));
      process.kill(victim!.pid!, 'SIGKILL');

      const { code } = await run.closed;

      expect(code).toBe(EXIT_CODES.degraded);
      const file = runFile(run.dir);
      expect(file.status).toBe('degraded');
      expect(file.causes[0]).toMatchObject({
        what: name,
        detail: expect.stringMatching(/killed by SIGKILL at \d/),
      });
      expect(Number.isNaN(Date.parse(file.causes[0]!.at!))).toBe(false);
      const verdict = run.stdout().split('\n')[0];
      expect(verdict).toMatch(new RegExp(`^Degraded run: ${name} killed by SIGKILL`));
      // The terminal names the failure once while the run goes on; no failure line at the end.
      expect(run.stderr().match(new RegExp(`${name} killed by SIGKILL`, 'g'))).toHaveLength(1);
      expect(run.stderr()).not.toMatch(/feedpath: /);
      expect(run.stdout()).toMatch(/report: .*report\.html/);
      if (lostOn !== null) expect(summary(run.dir, lostOn).events_lost).toBeGreaterThan(0);
      const report = JSON.parse(readFileSync(join(run.dir, 'report.json'), 'utf8')) as {
        run_status: { status: string };
      };
      expect(report.run_status.status).toBe('degraded');
    },
    60_000,
  );

  it('stops at once on a second Ctrl-C, marks run.json interrupted and tells how to analyse it', async () => {
    const run = await measuringRun(out, ['--duration', '60']);
    await sleep(1_500);
    run.child.kill('SIGINT');
    await sleep(200);
    run.child.kill('SIGINT');

    const { code } = await run.closed;

    expect(code).toBe(EXIT_CODES.interrupted);
    expect(runFile(run.dir).status).toBe('interrupted');
    expect(run.stderr()).toMatch(/analyse it with: feedpath analyze \S+/);
    // The agents finish writing by themselves once the command is gone; then the folder analyses.
    const pids = processes(run.dir).map((p) => p.pid ?? 0);
    await until('the agents to finish', () => (pids.some(alive) ? undefined : true), 20_000);
    const analyzed = await feedpath(['analyze', run.dir]);
    expect(analyzed.code).toBe(0);
    expect(analyzed.stdout.split('\n')[0]).toMatch(/^Interrupted run: .*Ctrl-C/);
  }, 60_000);

  it('says there is not enough data when the run is too short for a verdict', async () => {
    const result = await feedpath(['run', '--duration', '1e-9', '--out', out]);

    // A few events may get through in 1 ns of timer (a report that says not enough data, exit 3),
    // or none (the run fails with nothing to analyse, exit 1): never a verdict, never exit 0.
    expect([EXIT_CODES.insufficient, EXIT_CODES.failed]).toContain(result.code);
    expect(result.stdout + result.stderr).toMatch(/not enough data/i);
    expect(result.stdout).not.toMatch(/was faster|had the lower/);
    expect((result.stderr.match(/^feedpath: /gm) ?? []).length).toBeLessThanOrEqual(1);
  }, 60_000);

  it.each([
    { args: ['--exchange', 'http://x'], option: '--exchange' },
    { args: ['--replay', 'no-such-capture.gz'], option: '--replay' },
    { args: ['--out', '<file>/results'], option: '--out' },
  ])('rejects $option with exit 2 before any run folder exists', async ({ args, option }) => {
    const file = join(out, 'a-file');
    writeFileSync(file, 'not a folder');
    const results = join(out, 'results');
    const given = args.map((a) => a.replace('<file>', file));
    const withOut = given.includes('--out') ? given : [...given, '--out', results];

    const result = await feedpath(['run', ...withOut]);

    expect(result.code).toBe(EXIT_CODES.usage);
    expect(result.stderr).toContain(option);
    expect(
      result.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('(')),
    ).toHaveLength(1);
    expect(existsSync(results)).toBe(false);
    expect(readdirSync(out)).toEqual(['a-file']);
  });
});

/** Runs the built `feedpath` command (dist/cli.js) as a user would, for the end-to-end tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../lib/project-files';

export const CLI = join(projectRoot(), 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `feedpath` (for tests that act on it mid-run: signals, killing its agents). */
export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `feedpath <args>`; killed after `timeoutMs`. `env` is added to this process's environment. */
export function startCli(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): RunningCli {
  const { timeoutMs = 90_000, env } = options;
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, closed };
}

/** Runs `feedpath <args>` to its end. */
export async function feedpath(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const running = startCli(args, options);
  const { code, signal } = await running.closed;
  return { code, signal, stdout: running.stdout(), stderr: running.stderr() };
}

/** The one run folder `feedpath run --out <out>` made. */
export function onlyRun(out: string): string {
  const runs = readdirSync(out).filter((name) => existsSync(join(out, name, 'input.json')));
  expect(runs).toHaveLength(1);
  return join(out, runs[0] as string);
}

export function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

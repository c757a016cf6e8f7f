/** Starting pinned processes and reading their JSON lines, for the benchmarks. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** `taskset -c <core> <command…>` where taskset works, the bare command otherwise. */
export function pinned(
  core: number | undefined,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  if (core === undefined || !hasTaskset) return { command, args };
  return { command: 'taskset', args: ['-c', String(core), command, ...args] };
}

export function pinningNote(): string {
  return hasTaskset ? 'taskset, one core per process' : 'not pinned (no taskset)';
}

export interface LineProcess {
  child: ChildProcess;
  /** Resolves with the next parsed JSON line that satisfies `match`. */
  next<T = Record<string, unknown>>(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<T>;
  exited: Promise<number | null>;
  kill(): void;
}

/** Starts a process whose stdout is JSON lines. */
export function startLines(command: string, args: string[], label: string): LineProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const wake of waiters.splice(0)) wake();
  });
  let exitedFlag = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      exitedFlag = true;
      for (const wake of waiters.splice(0)) wake();
      resolve(code);
    }),
  );
  return {
    child,
    exited,
    kill: () => child.kill('SIGKILL'),
    next<T>(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      return new Promise<T>((resolve, reject) => {
        const look = (): void => {
          const index = lines.findIndex(match);
          if (index >= 0) {
            resolve(lines.splice(index, 1)[0] as T);
            return;
          }
          if (exitedFlag) return reject(new Error(`${label} exited before the expected line`));
          if (Date.now() > deadline)
            return reject(new Error(`${label}: no expected line within ${timeoutMs} ms`));
          waiters.push(look);
          setTimeout(look, Math.max(10, deadline - Date.now())).unref();
        };
        look();
      });
    },
  };
}

/** Starts a benchmark worker (bench/workers.ts) pinned to a core. */
export function startWorker(name: string, args: Record<string, unknown>, core?: number): LineProcess {
  const { command, args: argv } = pinned(core, process.execPath, [
    process.argv[1] as string,
    '--worker',
    name,
    JSON.stringify(args),
  ]);
  return startLines(command, argv, name);
}

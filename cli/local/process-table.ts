/**
 * `logs/processes.json` of a local run: every process the run started (exchange simulator, link
 * emulators, forwarder, receiver) with its pid, when it started and how it ended. Someone debugging a
 * run finds which process was which (to trace or kill one), and how each one ended, beside its log.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentProcess } from './agent-process';

export const PROCESS_TABLE_FILE = 'processes.json';

export const processEntrySchema = z.object({
  /** The name the run gives it: `exchange`, `link-exchange-receiver`, `forwarder`, `receiver`. */
  label: z.string(),
  agent: z.string(),
  pid: z.number().int().nullable(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  /** "killed by SIGKILL", "exited with code 0"; null while it runs. */
  exit: z.string().nullable(),
  log: z.string(),
});
export type ProcessEntry = z.infer<typeof processEntrySchema>;
export const processTableSchema = z.object({ processes: z.array(processEntrySchema) });

export class ProcessTable {
  private readonly entries: ProcessEntry[] = [];

  constructor(private readonly logDir: string) {}

  get file(): string {
    return join(this.logDir, PROCESS_TABLE_FILE);
  }

  /** Adds a started process and updates the file when it ends; `log` relative to this folder. */
  add(agent: string, process: AgentProcess, log = `${process.label}.log`): void {
    const entry: ProcessEntry = {
      label: process.label,
      agent,
      pid: process.pid ?? null,
      started_at: new Date().toISOString(),
      ended_at: null,
      exit: null,
      log,
    };
    this.entries.push(entry);
    this.write();
    void process.exited.then(() => {
      entry.ended_at = new Date().toISOString();
      entry.exit = process.describeExit();
      this.write();
    });
  }

  // Synchronous and small: it must be on disk before a test (or a user) looks for a pid, and a
  // failure to write it (a full disk) must not stop the run — the agents' own files matter more.
  private write(): void {
    try {
      writeFileSync(this.file, `${JSON.stringify({ processes: this.entries }, null, 2)}\n`);
    } catch {
      // the table is a debugging aid: the run goes on without it
    }
  }
}

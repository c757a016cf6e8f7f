/**
 * Which servers a run reached: run.json `connections` (lib/run-connections.ts) as a table, one row
 * per exchange or relay connection — so a reader can see that the two paths met different gateway
 * addresses, or that a reconnect changed the regime mid-run (the paired delta per connection pair is
 * lib/report/connections.ts).
 */
import { runFileSchema } from '../run-file';
import type { Report } from './model';
import type { Table } from './tables';

function endpoint(value: { address: string; port: number } | null): string {
  if (value === null) return '–';
  return value.address.includes(':') ? `[${value.address}]:${value.port}` : `${value.address}:${value.port}`;
}

/** "12:00:01.250" from an ISO time; the date is in the run's metadata. */
function clock(iso: string | null): string {
  if (iso === null) return 'open';
  const match = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(iso);
  return match?.[1] ?? iso;
}

/** The connections' table; null when run.json lists none (older runs). */
export function connectionLogTable(report: Pick<Report, 'metadata'>): Table | null {
  const parsed = runFileSchema.shape.connections.safeParse(report.metadata.run?.connections);
  const connections = parsed.success ? parsed.data : undefined;
  if (connections === undefined || connections.length === 0) return null;
  return {
    head: ['agent', 'feed', '#', 'remote', 'local', 'opened', 'closed', 'why it closed'],
    rows: connections.map((c) => [
      c.agent,
      c.feed,
      String(c.ordinal),
      endpoint(c.remote),
      endpoint(c.local),
      clock(c.opened_at),
      clock(c.closed_at),
      c.close_reason ?? '–',
    ]),
  };
}

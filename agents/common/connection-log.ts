/**
 * An agent's log of the connections of one feed (its exchange feed, its control feed, its relay):
 * each one numbered from 1 in the order it opened, with the addresses its socket had and when and
 * why it ended (lib/agent-files.ts `connectionRecordSchema`). The ordinal is what the sample CSVs'
 * `connection` column carries, so a row can be tied to the server that delivered it.
 */
import type { Socket } from 'node:net';
import type { ConnectionFeed, ConnectionRecord } from '../../lib/agent-files';

function endpoint(address: string | undefined, port: number | undefined): ConnectionRecord['remote'] {
  return address === undefined || port === undefined ? null : { address, port };
}

export class ConnectionLog {
  private readonly records: ConnectionRecord[] = [];

  constructor(
    readonly agent: string,
    readonly feed: ConnectionFeed,
  ) {}

  /** Records a connection that just opened; its `ordinal` is the next one. */
  opened(url: string, socket: Socket | undefined): ConnectionRecord {
    const record: ConnectionRecord = {
      agent: this.agent,
      feed: this.feed,
      ordinal: this.records.length + 1,
      url,
      remote: endpoint(socket?.remoteAddress, socket?.remotePort),
      local: endpoint(socket?.localAddress, socket?.localPort),
      opened_at: new Date().toISOString(),
      closed_at: null,
      close_reason: null,
    };
    this.records.push(record);
    return record;
  }

  /** Records why a connection ended (the first reason given is kept: it is the cause). */
  closed(record: ConnectionRecord, reason: string): void {
    if (record.closed_at !== null) return;
    record.closed_at = new Date().toISOString();
    record.close_reason = reason;
  }

  /** The connections so far, in opening order (copies). */
  list(): ConnectionRecord[] {
    return this.records.map((record) => ({ ...record }));
  }
}

/**
 * Why a connection ended, for {@link ConnectionLog.closed}: the agent's own reason when it ended it
 * (a rollover, a cut-off, silence), else `stopped` when the agent is stopping, else the socket's
 * last error, else what the peer's close frame said.
 */
export function closeReason(close: {
  own: string | undefined;
  stopped?: boolean;
  lastError: string | undefined;
  peer: string;
  code: number;
  reason: string;
}): string {
  if (close.own !== undefined) return close.own;
  if (close.stopped === true) return 'stopped';
  return (
    close.lastError ||
    `closed by the ${close.peer} (code ${close.code}${close.reason === '' ? '' : `: ${close.reason}`})`
  );
}

/** The close reason of a connection whose peer did not answer a heartbeat ping in time. */
export function silentReason(pingIntervalMs: number): string {
  return `silent: no answer to a ping within ${pingIntervalMs} ms`;
}

/** The connections of several logs, in the order they opened (ties: in the order the logs are given). */
export function inOpeningOrder(...logs: ConnectionLog[]): ConnectionRecord[] {
  return logs.flatMap((log) => log.list()).sort((a, b) => a.opened_at.localeCompare(b.opened_at));
}

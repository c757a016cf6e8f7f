/**
 * The exchange feed's state per WebSocket connection, and per rollover overlap (see ./feed.ts for
 * how a rollover brings a second connection up while the first still streams).
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import type { ConnectionRecord } from '../../lib/agent-files';
import type { Liveness, SilenceWatch } from './silence';

export class FeedConnection implements Liveness {
  open = false;
  openedAt = 0;
  alive = true;
  lastError = '';
  silence: SilenceWatch | undefined;
  rollTimer: NodeJS.Timeout | undefined;
  /** Closed on purpose (rollover or stop): its close is not a drop. */
  retired = false;
  /** Why we closed it (rollover, stop, silence); undefined when the other side or the network did. */
  endReason: string | undefined;
  /** The TCP socket under the WebSocket, once the handshake answered. */
  socket: Socket | undefined;
  /** Its entry in the connection log, once open; `record.ordinal` numbers its messages. */
  record: ConnectionRecord | undefined;
  ordinal = 0;

  constructor(readonly ws: WebSocket) {}

  clearTimers(): void {
    this.silence?.stop();
    this.silence = undefined;
    if (this.rollTimer !== undefined) clearTimeout(this.rollTimer);
    this.rollTimer = undefined;
  }
}

export interface Overlap {
  reason: string;
  /** The connection being brought up; undefined once it became the primary (or while none is open). */
  next: FeedConnection | undefined;
  /** Event key → the connection it was first passed on from. */
  seen: Map<string, FeedConnection>;
  switched: boolean;
  /** After the switch: whether the primary's latest message was one already passed on. */
  lastWasDuplicate: boolean;
  timer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
}

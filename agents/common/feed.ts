/**
 * One logical connection to the exchange that survives everything a long run meets: refused or
 * dropped connections (reconnect with backoff), a silent server (detected and left), the 24 h
 * connection limit and `serverShutdown` notices (rolled over with an overlap, no event lost or
 * doubled when the exchange offers one).
 *
 * The hot path — one exchange message — is: stamp, mark the connection alive, count, a few-byte
 * control check, hand the bytes on. Messages are parsed only during a rollover's overlap, where the
 * same event arrives on two connections and must be passed on once.
 *
 * Rollover: a second connection is opened while the first still streams. During the overlap every
 * message is keyed (stream kind, symbol, id) and passed on only the first time its key is seen. The
 * new connection has caught up when one key has come in on both; then it becomes the primary, the
 * old one is closed, and de-duplication goes on until the primary's latest message is a new event
 * at a drain check (the new connection may lag the old one by a few messages). Without a catch-up
 * within `overlapTimeoutMs` (a quiet market) the feed switches anyway.
 *
 * Sockets: permessage-deflate is off (compression costs latency and CPU for ~200-byte messages), and
 * ws turns Nagle off (`setNoDelay`) on every socket it opens.
 *
 * Every connection that opens gets the next ordinal of the feed's {@link ConnectionLog} (1, 2, …),
 * handed on with each message it delivers, and is logged with its addresses, times and close reason.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { eventKey, parseMessage } from '../../lib/binance';
import { wallClock, type WallClock } from '../../lib/clock';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { Backoff } from './backoff';
import { closeReason, ConnectionLog } from './connection-log';
import { isControlCandidate, isServerShutdown } from './control';
import { FeedConnection, type Overlap } from './feed-connection';
import {
  tunables,
  type ExchangeFeedOptions,
  type FeedCounters,
  type FeedEvents,
  type MessageHandler,
  type Tunables,
} from './feed-options';
import { SilenceWatch } from './silence';

export type { ExchangeFeedOptions, FeedCounters, FeedEvents, MessageHandler } from './feed-options';

export class ExchangeFeed {
  readonly url: string;
  private readonly connections: ConnectionLog;
  readonly counters: FeedCounters = {
    messages: 0,
    connects: 0,
    failedAttempts: 0,
    drops: 0,
    silentDrops: 0,
    rollovers: 0,
    duplicatesDropped: 0,
    serverShutdowns: 0,
  };
  private readonly onMessage: MessageHandler;
  private readonly clock: WallClock;
  private readonly backoff: Backoff;
  private readonly options: Tunables;
  private readonly events: FeedEvents;
  private primary: FeedConnection | undefined;
  private overlap: Overlap | undefined;
  private readonly all = new Set<FeedConnection>();
  private started = false;
  private stopped = false;
  private everConnected = false;
  private consecutiveFailures = 0;
  private lastUnreachableWarningAt = -Infinity;
  private lastError = 'no answer';
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectDeadline: NodeJS.Timeout | undefined;

  constructor(options: ExchangeFeedOptions) {
    this.url = options.url;
    this.onMessage = options.onMessage;
    this.clock = options.clock ?? wallClock();
    this.backoff = new Backoff(options.backoff);
    this.events = options.events ?? {};
    this.connections = options.connections ?? new ConnectionLog('exchange-feed', 'baseline');
    this.options = tunables(options);
  }

  /** Whether a connection to the exchange is open now. */
  get connected(): boolean {
    return this.primary?.open === true;
  }

  /** The connection's life so far, as `progress` reports it. */
  status(): Record<string, number | boolean> {
    const { connects, drops, failedAttempts, silentDrops, rollovers, duplicatesDropped } = this.counters;
    return {
      connected: this.connected,
      connects,
      drops,
      failed_attempts: failedAttempts,
      silent_drops: silentDrops,
      rollovers,
      duplicates_dropped: duplicatesDropped,
    };
  }

  /** Starts connecting; returns at once (failures are retried, see the class comment). */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { connectTimeoutMs } = this.options;
    if (connectTimeoutMs !== undefined) {
      this.connectDeadline = setTimeout(() => {
        if (this.everConnected || this.stopped) return;
        const error = new FeedpathError(
          ErrorCode.exchangeUnreachable,
          `exchange ${this.url} unreachable: no connection in ${connectTimeoutMs / 1000} s ` +
            `(${this.consecutiveFailures} attempts, last error: ${this.lastError})`,
        );
        void this.stop();
        this.events.fatal?.(error);
      }, connectTimeoutMs);
      this.connectDeadline.unref();
    }
    this.primary = this.connect();
  }

  /** Opens a second connection and switches to it once it has caught up (see the class comment). */
  rollover(reason: string): void {
    const primary = this.primary;
    if (this.stopped || this.overlap !== undefined || primary === undefined || !primary.open) return;
    this.counters.rollovers += 1;
    this.events.log?.(`exchange: rolling over (${reason}): opening a second connection`);
    this.overlap = {
      reason,
      next: undefined,
      seen: new Map(),
      switched: false,
      lastWasDuplicate: false,
      timer: undefined,
      retryTimer: undefined,
    };
    this.overlap.next = this.connect();
  }

  /** Closes every connection and stops reconnecting; resolves when the sockets are closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    if (this.connectDeadline !== undefined) clearTimeout(this.connectDeadline);
    this.endOverlap();
    const closing = [...this.all].map(
      (conn) =>
        new Promise<void>((resolve) => {
          conn.retired = true;
          conn.endReason ??= 'stopped';
          conn.clearTimers();
          if (conn.ws.readyState === WebSocket.CLOSED) {
            resolve();
            return;
          }
          conn.ws.once('close', () => resolve());
          conn.ws.terminate();
        }),
    );
    await Promise.all(closing);
  }

  private connect(): FeedConnection {
    const ws = new WebSocket(this.url, {
      perMessageDeflate: false,
      handshakeTimeout: this.options.handshakeTimeoutMs,
    });
    const conn = new FeedConnection(ws);
    this.all.add(conn);
    ws.on('upgrade', (res) => {
      conn.socket = res.socket as Socket;
    });
    ws.on('open', () => this.handleOpen(conn));
    ws.on('message', (data: Buffer) => {
      const stampNs = this.clock.nowNs();
      conn.alive = true;
      this.counters.messages += 1;
      if (this.overlap === undefined) {
        if (conn !== this.primary) return; // a retired connection's last buffered frames
        if (isControlCandidate(data) && this.handleControl(conn, data)) return;
        this.onMessage(data, stampNs, conn.ordinal);
      } else {
        this.handleOverlapMessage(conn, data, stampNs);
      }
    });
    ws.on('ping', () => {
      conn.alive = true;
    });
    ws.on('error', (error: Error) => {
      conn.lastError = error.message;
      this.lastError = error.message;
    });
    ws.on('close', (code: number, reason: Buffer) => this.handleClose(conn, code, reason.toString()));
    return conn;
  }

  private handleOpen(conn: FeedConnection): void {
    if (this.stopped || conn.retired) {
      conn.ws.terminate();
      return;
    }
    conn.open = true;
    conn.openedAt = Date.now();
    conn.record = this.connections.opened(this.url, conn.socket);
    conn.ordinal = conn.record.ordinal;
    this.counters.connects += 1;
    this.consecutiveFailures = 0;
    const first = !this.everConnected;
    this.everConnected = true;
    conn.silence = new SilenceWatch(conn, this.options.silenceTimeoutMs, () => {
      this.counters.silentDrops += 1;
      conn.lastError = `no message or ping for ${this.options.silenceTimeoutMs} ms`;
      conn.endReason = `silent: ${conn.lastError}`;
      this.events.warning?.(
        new FeedpathError(
          ErrorCode.peerSilent,
          `exchange ${this.url} went silent (no message or ping for ${this.options.silenceTimeoutMs / 1000} s): reconnecting`,
        ),
      );
      conn.ws.terminate();
    });
    const rollAfter = this.options.maxConnectionMs * this.options.rolloverAt;
    conn.rollTimer = setTimeout(() => {
      if (conn === this.primary) this.rollover('connection age limit');
    }, rollAfter);
    conn.rollTimer.unref();
    const overlap = this.overlap;
    if (overlap !== undefined && conn === overlap.next) {
      overlap.timer = setTimeout(() => {
        if (this.overlap === overlap && overlap.next === conn) {
          this.events.log?.('exchange: no event seen on both connections in time: switching anyway');
          this.switchTo(conn);
        }
      }, this.options.overlapTimeoutMs);
      overlap.timer.unref();
    }
    const remote = conn.record.remote;
    this.events.log?.(
      `exchange: connected to ${this.url}${remote === null ? '' : ` (${remote.address}:${remote.port})`}` +
        `${first ? '' : `, connection ${conn.ordinal}`}`,
    );
  }

  private handleClose(conn: FeedConnection, code: number, reason: string): void {
    const wasOpen = conn.open;
    if (conn.record !== undefined) {
      this.connections.closed(
        conn.record,
        closeReason({ own: conn.endReason, lastError: conn.lastError, peer: 'server', code, reason }),
      );
    }
    conn.open = false;
    conn.clearTimers();
    this.all.delete(conn);
    if (this.stopped) return;
    if (!wasOpen) {
      this.counters.failedAttempts += 1;
      this.consecutiveFailures += 1;
      this.warnUnreachable();
    } else if (!conn.retired) {
      this.counters.drops += 1;
      this.events.log?.(`exchange: connection ${conn.ordinal} closed (${conn.lastError || 'by the server'})`);
      if (Date.now() - conn.openedAt >= this.options.stableAfterMs) this.backoff.reset();
    }
    const overlap = this.overlap;
    if (conn === this.primary) {
      if (overlap?.next !== undefined) {
        // The old connection ended first: the new one (open or still connecting) takes over.
        this.switchTo(overlap.next);
        return;
      }
      this.primary = undefined;
      this.endOverlap();
      this.scheduleReconnect();
      return;
    }
    if (overlap !== undefined && conn === overlap.next) {
      // The second connection failed while the first still streams: try again.
      overlap.next = undefined;
      overlap.retryTimer = setTimeout(() => {
        if (this.overlap === overlap && !this.stopped) overlap.next = this.connect();
      }, this.backoff.next());
    }
  }

  private scheduleReconnect(): void {
    const delay = this.backoff.next();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.primary = this.connect();
    }, delay);
  }

  private warnUnreachable(): void {
    const now = Date.now();
    if (
      this.consecutiveFailures > 1 &&
      now - this.lastUnreachableWarningAt < this.options.unreachableWarningIntervalMs
    ) {
      return;
    }
    this.lastUnreachableWarningAt = now;
    this.events.warning?.(
      new FeedpathError(
        ErrorCode.exchangeUnreachable,
        `exchange ${this.url} unreachable (${this.lastError}); retrying with backoff ` +
          `(${this.consecutiveFailures} failed attempt${this.consecutiveFailures === 1 ? '' : 's'})`,
      ),
    );
  }

  /** Handles a control candidate; true when it was one (and must not be passed on). */
  private handleControl(conn: FeedConnection, data: Buffer): boolean {
    if (!isServerShutdown(data)) return false;
    this.counters.serverShutdowns += 1;
    if (conn === this.primary) this.rollover('serverShutdown');
    return true;
  }

  private handleOverlapMessage(conn: FeedConnection, data: Buffer, stampNs: bigint): void {
    const overlap = this.overlap as Overlap;
    if (isControlCandidate(data) && isServerShutdown(data)) {
      this.counters.serverShutdowns += 1;
      return;
    }
    const outcome = parseMessage(data.toString());
    if (!outcome.ok) {
      // Not an event (malformed, unknown, a request's answer): pass one copy on, the primary's.
      if (conn === this.primary) this.onMessage(data, stampNs, conn.ordinal);
      return;
    }
    const key = eventKey(outcome.event);
    const first = overlap.seen.get(key);
    if (first === undefined) {
      overlap.seen.set(key, conn);
      if (conn === this.primary) overlap.lastWasDuplicate = false;
      this.onMessage(data, stampNs, conn.ordinal);
      return;
    }
    this.counters.duplicatesDropped += 1;
    if (conn === this.primary) overlap.lastWasDuplicate = true;
    if (!overlap.switched && first !== conn && overlap.next !== undefined && overlap.next.open) {
      // One event came in on both: the streams are aligned, the new connection has caught up.
      this.switchTo(overlap.next);
    }
  }

  /** Makes `next` the primary and retires the old one; de-duplication drains on. */
  private switchTo(next: FeedConnection): void {
    const overlap = this.overlap as Overlap;
    const old = this.primary;
    this.primary = next;
    overlap.next = undefined;
    overlap.switched = true;
    overlap.lastWasDuplicate = false;
    if (overlap.timer !== undefined) clearTimeout(overlap.timer);
    if (old !== undefined && old !== next) {
      old.retired = true;
      old.endReason ??= `rollover (${overlap.reason})`;
      old.clearTimers();
      if (old.ws.readyState === WebSocket.OPEN) old.ws.close(1000, 'rollover');
      else old.ws.terminate();
    }
    this.events.log?.(`exchange: switched to connection ${next.ordinal} (${overlap.reason})`);
    overlap.timer = setInterval(() => {
      if (this.overlap !== overlap) return;
      if (!overlap.lastWasDuplicate) this.endOverlap();
    }, this.options.overlapDrainMs);
    overlap.timer.unref();
  }

  private endOverlap(): void {
    const overlap = this.overlap;
    if (overlap === undefined) return;
    if (overlap.timer !== undefined) clearInterval(overlap.timer);
    if (overlap.retryTimer !== undefined) clearTimeout(overlap.retryTimer);
    this.overlap = undefined;
  }
}

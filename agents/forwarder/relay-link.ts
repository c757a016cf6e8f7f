/**
 * The forwarder's connection to one receiver: connects (token in RELAY_TOKEN_HEADER, path
 * RELAY_PATH), reconnects with backoff, and sends relay frames without ever waiting for the
 * receiver. A receiver that falls behind by more than `maxBufferedBytes` of unsent data is cut off
 * (terminated, counted, reconnected later) so that it cannot stall the others or grow the
 * forwarder's memory; frames for a receiver that is not connected are dropped (and counted).
 *
 * A wrong token (HTTP 401) is reported as FP_AUTH_REJECTED on every attempt and retried with backoff
 * (the receiver may be restarted with the right token); after `authRejectLimit` consecutive
 * rejections the link gives up and reports the error as fatal.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { RELAY_PATH, RELAY_TOKEN_HEADER } from '../../lib/wire';
import type { ConnectionRecord } from '../../lib/agent-files';
import { Backoff, type BackoffOptions } from '../common/backoff';
import { closeReason, silentReason, type ConnectionLog } from '../common/connection-log';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_STABLE_AFTER_MS,
  DEFAULT_UNREACHABLE_WARNING_INTERVAL_MS,
} from '../common/feed-options';
import { startHeartbeat } from '../common/heartbeat';

export interface RelayLinkEvents {
  warning(error: FeedpathError): void;
  fatal(error: FeedpathError): void;
  log(message: string): void;
}

export interface RelayLinkOptions {
  host: string;
  port: number;
  token: string;
  backoff: BackoffOptions;
  maxBufferedBytes: number;
  authRejectLimit: number;
  pingIntervalMs: number;
  events: RelayLinkEvents;
  /** Where the relay connections are logged (one log for all of the forwarder's links). */
  connections: ConnectionLog;
  /**
   * Bytes written first on every new connection, before any relay frame: the announcement of the
   * current upstream connection (lib/wire.ts); undefined when there is nothing to announce yet.
   */
  greeting?: () => Buffer | undefined;
}

/** What `progress` reports per receiver. */
export interface RelayLinkStatus {
  receiver: string;
  connected: boolean;
  relayed: number;
  /** Bytes written to this receiver (WebSocket framing included): what crosses the regions (the run's cost). */
  relayed_bytes: number;
  dropped: number;
  cutoffs: number;
  connects: number;
  auth_rejections: number;
  max_buffered_bytes: number;
}

export class RelayLink {
  readonly address: string;
  relayed = 0;
  relayedBytes = 0;
  /** Frames not sent to this receiver: not connected, or cut off. */
  dropped = 0;
  cutoffs = 0;
  connects = 0;
  authRejections = 0;
  /** The most unsent data right after a send, bytes (never above the bound): shows the bound holds. */
  maxBuffered = 0;
  private ws: WebSocket | undefined;
  /** The open connection's TCP socket (relay frames are written to it directly, see send); set while connected. */
  private socket: Socket | undefined;
  private stopped = false;
  private consecutiveRejections = 0;
  private consecutiveFailures = 0;
  private lastUnreachableWarningAt = -Infinity;
  private openedAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Set when the open connection is cut off, for its close reason. */
  private cutOffReason: string | undefined;
  private readonly backoff: Backoff;
  private readonly url: string;

  constructor(private readonly options: RelayLinkOptions) {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.address = `${host}:${options.port}`;
    this.url = `ws://${this.address}${RELAY_PATH}`;
    this.backoff = new Backoff(options.backoff);
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  start(): void {
    this.connect();
  }

  /**
   * Sends `frames` relay frames — complete WebSocket frames (lib/wire `encodeRelayWsFrame`), one or
   * several back to back in `bytes` — in one write, or drops them; never blocks, never buffers more
   * than the bound.
   *
   * The bytes go to the socket under `ws`, not through `ws.send`, which would frame every message
   * again for every receiver (a header buffer and two writes per frame and receiver). That is safe:
   * `ws` writes whole frames too, and of its own sends only control frames (ping, pong, close)
   * here, so frames never interleave; `ws.bufferedAmount` counts these bytes as well.
   */
  send(bytes: Buffer, frames = 1): void {
    const socket = this.socket;
    const ws = this.ws as WebSocket;
    // Not connected, or closing (a close frame is on its way: nothing may follow it).
    if (socket === undefined || ws.readyState !== WebSocket.OPEN) {
      this.dropped += frames;
      return;
    }
    // The bound is checked against what the buffer would hold after this write, so it holds by
    // construction: a burst batch can no longer push the buffer past it before the next check.
    const after = ws.bufferedAmount + bytes.length;
    if (after > this.options.maxBufferedBytes) {
      this.cutOff(after);
      this.dropped += frames;
      return;
    }
    if (after > this.maxBuffered) this.maxBuffered = after;
    socket.write(bytes);
    this.relayed += frames;
    this.relayedBytes += bytes.length;
  }

  status(): RelayLinkStatus {
    return {
      receiver: this.address,
      connected: this.connected,
      relayed: this.relayed,
      relayed_bytes: this.relayedBytes,
      dropped: this.dropped,
      cutoffs: this.cutoffs,
      connects: this.connects,
      auth_rejections: this.authRejections,
      max_buffered_bytes: this.maxBuffered,
    };
  }

  /** Closes the connection (unsent frames are given a moment to go out) and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const ws = this.ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.OPEN) {
        ws.close(1001, 'forwarder stopping');
        // ws force-closes after its own 30 s; a receiver that does not answer gets less.
        setTimeout(() => ws.terminate(), 2_000).unref();
      } else {
        ws.terminate();
      }
    });
  }

  private connect(): void {
    const ws = new WebSocket(this.url, {
      perMessageDeflate: false,
      handshakeTimeout: DEFAULT_HANDSHAKE_TIMEOUT_MS,
      headers: { [RELAY_TOKEN_HEADER]: this.options.token },
    });
    this.ws = ws;
    let opened = false;
    let status: number | undefined;
    let lastError = '';
    let stopHeartbeat: (() => void) | undefined;
    let socket: Socket | undefined;
    let record: ConnectionRecord | undefined;
    /** Why we ended the connection ourselves (undefined: the receiver or the network did). */
    let endReason: string | undefined;
    ws.on('upgrade', (res) => {
      socket = res.socket as Socket;
    });
    ws.on('unexpected-response', (_req, res) => {
      status = res.statusCode;
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      if (this.stopped) {
        ws.terminate();
        return;
      }
      opened = true;
      this.socket = socket;
      this.cutOffReason = undefined;
      record = this.options.connections.opened(this.url, socket);
      // Before any relay frame: the receiver must know the upstream connection of the first one.
      const greeting = this.options.greeting?.();
      if (greeting !== undefined) socket?.write(greeting);
      this.openedAt = Date.now();
      this.connects += 1;
      this.consecutiveRejections = 0;
      this.consecutiveFailures = 0;
      this.options.events.log(`relay: connected to receiver ${this.address}`);
      stopHeartbeat = startHeartbeat(ws, this.options.pingIntervalMs, () => {
        endReason = silentReason(this.options.pingIntervalMs);
        this.options.events.warning(
          new FeedpathError(
            ErrorCode.peerSilent,
            `receiver ${this.address} did not answer a ping within ${this.options.pingIntervalMs / 1000} s: reconnecting`,
          ),
        );
      });
    });
    ws.on('error', (error: Error) => {
      lastError = error.message;
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.socket = undefined;
      stopHeartbeat?.();
      if (record !== undefined) {
        this.options.connections.closed(
          record,
          closeReason({
            own: endReason ?? this.cutOffReason,
            stopped: this.stopped,
            lastError,
            peer: 'receiver',
            code,
            reason: reason.toString(),
          }),
        );
      }
      if (this.stopped) return;
      if (opened) {
        this.options.events.log(
          `relay: connection to receiver ${this.address} closed (${lastError || 'by the receiver'})`,
        );
        if (Date.now() - this.openedAt >= DEFAULT_STABLE_AFTER_MS) this.backoff.reset();
      } else if (status === 401) {
        if (this.rejected()) return;
      } else {
        this.unreachable(status === undefined ? lastError || 'no answer' : `HTTP ${status}`);
      }
      const delay = this.backoff.next();
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.stopped) this.connect();
      }, delay);
    });
  }

  private cutOff(buffered: number): void {
    this.cutoffs += 1;
    this.socket = undefined;
    this.cutOffReason = `cut off: ${buffered} bytes would be unsent (bound ${this.options.maxBufferedBytes})`;
    this.options.events.warning(
      new FeedpathError(
        ErrorCode.receiverSlow,
        `receiver ${this.address} fell behind (${buffered} bytes would be unsent, bound ${this.options.maxBufferedBytes}): ` +
          'cut off, reconnecting later',
      ),
    );
    (this.ws as WebSocket).terminate();
  }

  /** Counts a token rejection; true when the limit is reached (the link gave up). */
  private rejected(): boolean {
    this.authRejections += 1;
    this.consecutiveRejections += 1;
    const { authRejectLimit } = this.options;
    const error = new FeedpathError(
      ErrorCode.authRejected,
      `receiver ${this.address} rejected the relay token (HTTP 401), ${this.consecutiveRejections} of ` +
        `${authRejectLimit} consecutive: forwarder and receiver must be given the same token`,
    );
    if (this.consecutiveRejections >= authRejectLimit) {
      this.stopped = true;
      this.options.events.fatal(error);
      return true;
    }
    this.options.events.warning(error);
    return false;
  }

  private unreachable(reason: string): void {
    this.consecutiveFailures += 1;
    const now = Date.now();
    if (
      this.consecutiveFailures > 1 &&
      now - this.lastUnreachableWarningAt < DEFAULT_UNREACHABLE_WARNING_INTERVAL_MS
    ) {
      return;
    }
    this.lastUnreachableWarningAt = now;
    this.options.events.warning(
      new FeedpathError(
        ErrorCode.receiverUnreachable,
        `receiver ${this.address} unreachable (${reason}); retrying with backoff ` +
          `(${this.consecutiveFailures} failed attempt${this.consecutiveFailures === 1 ? '' : 's'})`,
      ),
    );
  }
}

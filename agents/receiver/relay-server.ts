/**
 * The receiver's side of the relay, the counterpart of the forwarder's RelayLink
 * (agents/forwarder/relay-link.ts): a WebSocket server on RELAY_PATH that accepts the forwarder's
 * connections (token in RELAY_TOKEN_HEADER, compared in constant time), pings each one and drops
 * the silent, logs every connection, and hands each relay frame to `onMessage` with its arrival
 * stamp — taken before anything else is done with the frame.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WallClock } from '../../lib/clock';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { RELAY_PATH, RELAY_TOKEN_HEADER } from '../../lib/wire';
import { closeReason, silentReason, type ConnectionLog } from '../common/connection-log';
import { startHeartbeat } from '../common/heartbeat';
import { listen } from '../common/listen';

/** A relay frame larger than this is refused (Binance messages are a few kB). */
const MAX_RELAY_FRAME_BYTES = 16 * 1024 * 1024;

export interface RelayCounters {
  /** Forwarder connections open now. */
  connections: number;
  /** Forwarder connections accepted so far. */
  accepted: number;
  /** Connection attempts refused for a wrong or missing token (HTTP 401). */
  authRejected: number;
}

export interface RelayServerEvents {
  warning(error: FeedpathError): void;
  log(message: string): void;
}

export interface RelayServerOptions {
  /** Where the relay is accepted. */
  host: string;
  /** 0 takes any free port. */
  port: number;
  /** The relay's shared secret. */
  token: string;
  /** How often each forwarder connection is pinged; two intervals without an answer = dead. */
  pingIntervalMs: number;
  clock: WallClock;
  /** Where the relay connections are logged. */
  connections: ConnectionLog;
  events: RelayServerEvents;
}

function tokenMatches(expected: Buffer, given: string | string[] | undefined): boolean {
  if (typeof given !== 'string') return false;
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export class RelayServer {
  readonly counters: RelayCounters = { connections: 0, accepted: 0, authRejected: 0 };
  private wss: WebSocketServer | undefined;
  private isStopping = false;
  private readonly token: Buffer;

  private constructor(
    private readonly options: RelayServerOptions,
    private readonly server: Server,
    /** The bound port (the one the system picked for port 0). */
    readonly port: number,
  ) {
    this.token = Buffer.from(options.token);
  }

  /**
   * Listens (a port in use is FP_PORT_IN_USE: see ../common/listen.ts). Relay connections are
   * accepted only after {@link accept}, so the port can be taken before the sample files exist.
   */
  static async listen(options: RelayServerOptions): Promise<RelayServer> {
    const server = createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end(`feedpath receiver: WebSocket relay on ${RELAY_PATH}\n`);
    });
    const port = await listen(server, options.host, options.port);
    return new RelayServer(options, server, port);
  }

  /** Accepts relay connections from now on; every frame goes to `onMessage` with its arrival stamp. */
  accept(onMessage: (data: Buffer, stampNs: bigint) => void): void {
    const { clock, connections, events, pingIntervalMs } = this.options;
    const { counters: relay, token } = this;
    const warn = events.warning;
    const log = events.log;
    const wss = new WebSocketServer({
      server: this.server,
      path: RELAY_PATH,
      perMessageDeflate: false,
      maxPayload: MAX_RELAY_FRAME_BYTES,
      verifyClient: (
        info: { req: IncomingMessage },
        done: (ok: boolean, code?: number, message?: string) => void,
      ) => {
        if (tokenMatches(token, info.req.headers[RELAY_TOKEN_HEADER])) {
          done(true);
          return;
        }
        relay.authRejected += 1;
        warn(
          new FeedpathError(
            ErrorCode.authRejected,
            `relay connection from ${info.req.socket.remoteAddress ?? 'unknown'} refused: wrong or missing token (HTTP 401)`,
          ),
        );
        done(false, 401, 'Unauthorized');
      },
    });
    this.wss = wss;
    wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
      ws.on('message', (data: Buffer) => {
        const stampNs = clock.nowNs();
        onMessage(data, stampNs);
      });
      relay.connections += 1;
      relay.accepted += 1;
      const from = `${req.socket.remoteAddress ?? 'unknown'}:${req.socket.remotePort ?? ''}`;
      const record = connections.opened(`ws://${req.headers.host ?? ''}${req.url ?? RELAY_PATH}`, req.socket);
      let endReason: string | undefined;
      let lastError = '';
      log(`relay: forwarder connected from ${from}`);
      const stopHeartbeat = startHeartbeat(ws, pingIntervalMs, () => {
        endReason = silentReason(pingIntervalMs);
        warn(
          new FeedpathError(
            ErrorCode.peerSilent,
            `forwarder ${from} did not answer a ping: connection dropped`,
          ),
        );
      });
      ws.on('error', (error: Error) => {
        lastError = error.message;
        log(`relay: connection from ${from}: ${error.message}`);
      });
      ws.on('close', (code: number, reason: Buffer) => {
        connections.closed(
          record,
          closeReason({
            own: endReason,
            stopped: this.isStopping,
            lastError,
            peer: 'forwarder',
            code,
            reason: reason.toString(),
          }),
        );
        stopHeartbeat();
        relay.connections -= 1;
        log(`relay: forwarder ${from} disconnected`);
      });
    });
    wss.on('error', (error: Error) => log(`relay server: ${error.message}`));
  }

  /** From now on a closing relay connection was stopped by the receiver (its connection log says so). */
  stopping(): void {
    this.isStopping = true;
  }

  /** Drops every forwarder connection and closes the listener. */
  async stop(): Promise<void> {
    this.isStopping = true;
    const { wss, server } = this;
    if (wss !== undefined) {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * A Binance-compatible market-data WebSocket server: the same URLs (`/ws/<stream>`,
 * `/stream?streams=a/b`, `timeUnit=MICROSECOND`), message shapes, heartbeat and connection lifetime
 * as Binance spot, fed by a source (synthetic market or capture replay) through {@link publish}.
 *
 * Fan-out: an event goes to every client subscribed to its stream at the same instant. It is
 * serialized once per variant a subscriber needs (raw or combined × ms or µs) into a Buffer, and the
 * identical bytes are handed to every socket in one synchronous loop.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { parseStreamRequest, type StreamKind, type StreamRequest } from '../../lib/binance';
import { listen } from '../common/listen';
import type { ExchangeEvent, MicrosecondClock } from './event';

/** After a close frame, a client that does not finish the closing handshake is cut off this much later. */
export const CLOSE_GRACE_MS = 1_000;
/** The code a connection is closed with when its lifetime ends or the server stops ("going away"). */
export const CLOSE_GOING_AWAY = 1001;
/** The stream name Binance gives `serverShutdown` in a combined-stream wrapper. */
export const SERVER_SHUTDOWN_STREAM = '!serverShutdown';

export interface ServerOptions {
  host: string;
  port: number;
  pingIntervalMs: number;
  pongTimeoutMs: number;
  maxConnectionMs: number;
  shutdownNoticeMs: number;
  clock: MicrosecondClock;
}

/** Live counts, read by progress reports and tests. */
export interface ServerCounters {
  /** Clients connected now. */
  clients: number;
  /** Connections accepted since start. */
  connections: number;
  /** Upgrade requests refused (bad path, unknown stream). */
  rejected: number;
  /** Clients terminated for not answering a ping in time. */
  pongTimeouts: number;
  /** Connections closed because their lifetime ended. */
  lifetimeCloses: number;
  /** Events published by the source, by stream kind (whether or not anyone was subscribed). */
  events: Record<StreamKind, number>;
  /** WebSocket messages sent (one event to three clients is three). */
  messages: number;
  /** Payload bytes sent. */
  bytes: number;
}

/** Variant index: bit 0 = microseconds, bit 1 = combined wrapper. */
type Variant = 0 | 1 | 2 | 3;
const VARIANTS: readonly Variant[] = [0, 1, 2, 3];

function variantOf(request: StreamRequest): Variant {
  return ((request.combined ? 2 : 0) + (request.microseconds ? 1 : 0)) as Variant;
}

interface Client {
  ws: WebSocket;
  variant: Variant;
  streams: readonly string[];
  /** Payloads of the pings sent since the last answered one. */
  pendingPings: string[];
  pingCount: number;
  pingTimer: NodeJS.Timeout;
  pongDeadline: NodeJS.Timeout | undefined;
  noticeTimer: NodeJS.Timeout;
  lifetimeTimer: NodeJS.Timeout;
  graceTimer: NodeJS.Timeout | undefined;
}

/** The clients of one stream, and how many of them want each variant. */
interface StreamGroup {
  clients: Set<Client>;
  perVariant: [number, number, number, number];
}

const TEXT_FRAME = { binary: false } as const;

/** The URL clients connect to; a wildcard host is reached through loopback. */
export function serverUrl(host: string, port: number): string {
  let name = host;
  if (host === '0.0.0.0') name = '127.0.0.1';
  else if (host === '::') name = '[::1]';
  else if (host.includes(':')) name = `[${host}]`;
  return `ws://${name}:${port}`;
}

export class ExchangeServer {
  readonly counters: ServerCounters = {
    clients: 0,
    connections: 0,
    rejected: 0,
    pongTimeouts: 0,
    lifetimeCloses: 0,
    events: { trade: 0, aggTrade: 0, bookTicker: 0, depth: 0 },
    messages: 0,
    bytes: 0,
  };
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly groups = new Map<string, StreamGroup>();
  private readonly clientWaiters: { count: number; resolve: () => void }[] = [];
  private stopping = false;
  private boundPort = 0;

  constructor(private readonly options: ServerOptions) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
    this.http = createServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'text/plain' });
      response.end('a WebSocket endpoint: connect to /ws/<stream> or /stream?streams=<stream>/<stream>\n');
    });
    this.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(request, socket, head);
    });
    this.http.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Listens; resolves with the bound port. A port in use is FP_PORT_IN_USE. */
  async listen(): Promise<number> {
    const { host, port } = this.options;
    this.boundPort = await listen(this.http, host, port);
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return serverUrl(this.options.host, this.boundPort);
  }

  /** Resolves once at least `count` clients are connected at the same time. */
  waitForClients(count: number): Promise<void> {
    if (this.clients.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.clientWaiters.push({ count, resolve }));
  }

  /** Sends one event to every client subscribed to its stream, stamping E at this instant. */
  publish(event: ExchangeEvent): void {
    this.counters.events[event.kind] += 1;
    const group = this.groups.get(event.stream);
    if (group === undefined || group.clients.size === 0) return;
    const payloads = this.serialize(event, group.perVariant);
    let sent = 0;
    for (const client of group.clients) {
      if (client.ws.readyState !== WebSocket.OPEN) continue;
      const payload = payloads[client.variant] as Buffer;
      client.ws.send(payload, TEXT_FRAME);
      this.counters.bytes += payload.length;
      sent += 1;
    }
    this.counters.messages += sent;
  }

  /** Closes every connection (code 1001) and the listener. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const closing = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          client.ws.once('close', () => resolve());
          this.closeClient(client, 'exchange stopping');
        }),
    );
    // Stop accepting first; the listener's close completes once the upgraded sockets are gone too.
    const serverClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    await Promise.all(closing);
    this.http.closeAllConnections();
    this.wss.close();
    await serverClosed;
  }

  private serialize(event: ExchangeEvent, perVariant: readonly number[]): (Buffer | undefined)[] {
    const { data } = event;
    const payloads: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];
    if (!('E' in data)) {
      // No event time (spot bookTicker): one body for both units.
      const body = JSON.stringify(data);
      for (const variant of VARIANTS) {
        if (perVariant[variant] === 0) continue;
        payloads[variant] = Buffer.from(variant & 2 ? wrap(event.stream, body) : body);
      }
      return payloads;
    }
    const nowUs = this.options.clock.nowUs();
    let tradeUs: number | undefined;
    if (event.tradeTimeUs !== undefined) tradeUs = event.tradeTimeUs;
    else if (event.tradeLagUs !== undefined) tradeUs = nowUs - event.tradeLagUs;
    const bodies: (string | undefined)[] = [undefined, undefined];
    for (const variant of VARIANTS) {
      if (perVariant[variant] === 0) continue;
      const micro = variant & 1;
      let body = bodies[micro];
      if (body === undefined) {
        data.E = micro ? nowUs : Math.floor(nowUs / 1000);
        if (tradeUs !== undefined) data.T = micro ? tradeUs : Math.floor(tradeUs / 1000);
        body = JSON.stringify(data);
        bodies[micro] = body;
      }
      payloads[variant] = Buffer.from(variant & 2 ? wrap(event.stream, body) : body);
    }
    return payloads;
  }

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.stopping) {
      this.refuse(socket, 503, 'the exchange is stopping');
      return;
    }
    let streamRequest: StreamRequest;
    try {
      streamRequest = parseStreamRequest(request.url ?? '/');
    } catch (error) {
      this.counters.rejected += 1;
      this.refuse(socket, 400, error instanceof Error ? error.message : String(error));
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, streamRequest));
  }

  private refuse(socket: Duplex, status: 400 | 503, message: string): void {
    const body = `${message}\n`;
    const reason = status === 400 ? 'Bad Request' : 'Service Unavailable';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private accept(ws: WebSocket, request: StreamRequest): void {
    if (this.stopping) {
      ws.terminate();
      return;
    }
    const { pingIntervalMs, maxConnectionMs, shutdownNoticeMs } = this.options;
    const client: Client = {
      ws,
      variant: variantOf(request),
      streams: request.streams.map((stream) => stream.name),
      pendingPings: [],
      pingCount: 0,
      pingTimer: setInterval(() => this.ping(client), pingIntervalMs),
      pongDeadline: undefined,
      noticeTimer: setTimeout(() => this.announceShutdown(client), maxConnectionMs - shutdownNoticeMs),
      lifetimeTimer: setTimeout(() => {
        this.counters.lifetimeCloses += 1;
        this.closeClient(client, 'connection lifetime reached');
      }, maxConnectionMs),
      graceTimer: undefined,
    };
    ws.on('error', () => ws.terminate());
    ws.on('pong', (payload) => this.pong(client, payload));
    ws.on('close', () => this.forget(client));
    this.clients.add(client);
    for (const stream of client.streams) {
      let group = this.groups.get(stream);
      if (group === undefined) {
        group = { clients: new Set(), perVariant: [0, 0, 0, 0] };
        this.groups.set(stream, group);
      }
      group.clients.add(client);
      group.perVariant[client.variant] += 1;
    }
    this.counters.clients = this.clients.size;
    this.counters.connections += 1;
    for (let i = this.clientWaiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.clientWaiters[i] as { count: number; resolve: () => void };
      if (this.clients.size >= waiter.count) {
        this.clientWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private forget(client: Client): void {
    if (!this.clients.delete(client)) return;
    clearInterval(client.pingTimer);
    clearTimeout(client.pongDeadline);
    clearTimeout(client.noticeTimer);
    clearTimeout(client.lifetimeTimer);
    clearTimeout(client.graceTimer);
    for (const stream of client.streams) {
      const group = this.groups.get(stream);
      if (group === undefined) continue;
      group.clients.delete(client);
      group.perVariant[client.variant] -= 1;
      if (group.clients.size === 0) this.groups.delete(stream);
    }
    this.counters.clients = this.clients.size;
  }

  /**
   * Binance: a pong must copy the ping's payload; unsolicited pongs do not keep a connection alive.
   * The deadline runs from the first ping left unanswered.
   */
  private ping(client: Client): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    client.pingCount += 1;
    const payload = String(client.pingCount);
    client.pendingPings.push(payload);
    client.pongDeadline ??= setTimeout(() => {
      this.counters.pongTimeouts += 1;
      client.ws.terminate();
    }, this.options.pongTimeoutMs);
    client.ws.ping(payload);
  }

  private pong(client: Client, payload: Buffer): void {
    if (!client.pendingPings.includes(payload.toString())) return;
    client.pendingPings.length = 0;
    clearTimeout(client.pongDeadline);
    client.pongDeadline = undefined;
  }

  private announceShutdown(client: Client): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    const nowUs = this.options.clock.nowUs();
    const body = JSON.stringify({
      e: 'serverShutdown',
      E: client.variant & 1 ? nowUs : Math.floor(nowUs / 1000),
    });
    const payload = Buffer.from(client.variant & 2 ? wrap(SERVER_SHUTDOWN_STREAM, body) : body);
    client.ws.send(payload, TEXT_FRAME);
    this.counters.messages += 1;
    this.counters.bytes += payload.length;
  }

  private closeClient(client: Client, reason: string): void {
    if (client.graceTimer !== undefined) return;
    clearTimeout(client.noticeTimer);
    clearTimeout(client.lifetimeTimer);
    client.graceTimer = setTimeout(() => client.ws.terminate(), CLOSE_GRACE_MS);
    client.ws.close(CLOSE_GOING_AWAY, reason);
  }
}

function wrap(stream: string, body: string): string {
  return `{"stream":${JSON.stringify(stream)},"data":${body}}`;
}

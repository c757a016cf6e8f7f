/**
 * Shared by the exchange, feed, forwarder, receiver and relay tests: small real servers, waiting,
 * agent bundles.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { WebSocketServer, type WebSocket } from 'ws';

/** Polls until `check` is true; fails with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Awaits a promise, failing with `what` after `timeoutMs` instead of hanging until jest's own timeout. */
export async function within<T>(
  promise: Promise<T> | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  if (promise === undefined) throw new Error(`no promise for ${what}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A Binance combined-stream trade message (E and T in µs). */
export function tradeMessage(id: number, symbol = 'BTCUSDT'): string {
  const nowUs = Date.now() * 1000;
  return JSON.stringify({
    stream: `${symbol.toLowerCase()}@trade`,
    data: {
      e: 'trade',
      E: nowUs,
      s: symbol,
      t: id,
      p: '61837.63000000',
      q: '0.02000000',
      T: nowUs,
      m: true,
      M: true,
    },
  });
}

/** A Binance combined-stream depth update of roughly `bytes` bytes. */
export function depthMessage(u: number, bytes: number, symbol = 'BTCUSDT'): string {
  const level: [string, string] = ['61837.63000000', '1.54698000'];
  const levels = Math.max(1, Math.floor(bytes / 32));
  return JSON.stringify({
    stream: `${symbol.toLowerCase()}@depth@100ms`,
    data: { e: 'depthUpdate', E: Date.now() * 1000, s: symbol, U: u, u, b: Array(levels).fill(level), a: [] },
  });
}

/** A bare WebSocket server standing in for the exchange, where a test controls every frame. */
export interface FakeExchange {
  url: string;
  port: number;
  wss: WebSocketServer;
  /** Every client connected so far, in order. */
  connections: WebSocket[];
  close(): Promise<void>;
}

export async function startFakeExchange(port = 0): Promise<FakeExchange> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const bound = (wss.address() as AddressInfo).port;
  const connections: WebSocket[] = [];
  wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    connections.push(ws);
  });
  return {
    url: `ws://127.0.0.1:${bound}/stream?streams=btcusdt@trade`,
    port: bound,
    wss,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `feedpath-${prefix}-`));
}

/** Reads a CSV written by SampleWriter: header and rows as arrays of fields. */
export async function readCsv(path: string): Promise<{ header: string; rows: string[][] }> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((line) => line.length > 0);
  return { header: lines[0] ?? '', rows: lines.slice(1).map((line) => line.split(',')) };
}

const bundles = new Map<string, Promise<string>>();

/**
 * Bundles one agent's main.ts (as scripts/build.mjs does) into a temporary folder and returns the
 * folder (AgentProcess's `agentsDir`): the tests do not depend on an earlier `npm run build`.
 */
export function bundleAgent(name: 'forwarder' | 'receiver'): Promise<string> {
  let bundle = bundles.get(name);
  if (bundle === undefined) {
    bundle = (async () => {
      const dir = await tempDir(`bundle-${name}`);
      await build({
        entryPoints: { [name]: join(__dirname, '..', 'agents', name, 'main.ts') },
        outdir: dir,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        logLevel: 'silent',
        external: ['bufferutil', 'utf-8-validate'],
      });
      return dir;
    })();
    bundles.set(name, bundle);
  }
  return bundle;
}

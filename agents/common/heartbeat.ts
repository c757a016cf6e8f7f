/**
 * Keeps a WebSocket peer honest (ws README "heartbeat"): ping every `intervalMs`, and terminate the
 * peer if a whole interval went by without a pong (or a ping of its own). A dead peer is detected
 * within two intervals instead of after TCP's retransmission timeout (minutes).
 */
import type WebSocket from 'ws';

/** Relay links ping each other this often (as Binance pings its clients). */
export const DEFAULT_RELAY_PING_INTERVAL_MS = 20_000;

/** Starts the heartbeat; the returned function stops it (call it on `close`). */
export function startHeartbeat(ws: WebSocket, intervalMs: number, onDead: () => void): () => void {
  let alive = true;
  const markAlive = (): void => {
    alive = true;
  };
  ws.on('pong', markAlive);
  ws.on('ping', markAlive);
  const timer = setInterval(() => {
    if (!alive) {
      clearInterval(timer);
      onDead();
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

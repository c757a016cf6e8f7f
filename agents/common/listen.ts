/**
 * How every agent that accepts connections starts listening (the exchange's server, the receiver's
 * relay server, the link): one mapping of listen errors, the cause kept, so a run reports a port in
 * use or a bad address the same way whichever agent hit it.
 */
import type { Server } from 'node:net';
import { ErrorCode, FeedpathError } from '../../lib/errors';

/**
 * The error for a failed listen: a port in use is FP_PORT_IN_USE; an address the host does not
 * have, cannot resolve or may not bind (a privileged port) is FP_BAD_CONFIG; anything else is
 * FP_AGENT_FAILED.
 */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): FeedpathError {
  if (error.code === 'EADDRINUSE') {
    return new FeedpathError(
      ErrorCode.portInUse,
      `port ${port} on ${host} is already in use: stop what holds it or choose another port`,
      { cause: error },
    );
  }
  const code =
    error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
      ? ErrorCode.badConfig
      : ErrorCode.agentFailed;
  return new FeedpathError(code, `cannot listen on ${host} port ${port}: ${error.message}`, {
    cause: error,
  });
}

/**
 * Listens on `host:port` (an HTTP server is a net.Server too); resolves with the bound port (the
 * one the system picked for port 0), rejects with {@link listenError}. Later errors are the
 * caller's to handle.
 */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(listenError(error, host, port));
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

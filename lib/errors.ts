/**
 * The project's error base. `code` is stable (tests and scripts match it); the message is for
 * people. Every agent and command error carries one of {@link ErrorCode}.
 */
export const ErrorCode = {
  badStream: 'FP_BAD_STREAM',
  badConfig: 'FP_BAD_CONFIG',
  badProfile: 'FP_BAD_PROFILE',
  badCapture: 'FP_BAD_CAPTURE',
  portInUse: 'FP_PORT_IN_USE',
  exchangeUnreachable: 'FP_EXCHANGE_UNREACHABLE',
  authRejected: 'FP_AUTH_REJECTED',
  peerSilent: 'FP_PEER_SILENT',
  badInput: 'FP_BAD_INPUT',
  agentFailed: 'FP_AGENT_FAILED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FeedpathError extends Error {
  override name = 'FeedpathError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for an error whose message is meant for the user as is (no stack trace needed). */
export function isFeedpathError(error: unknown): error is FeedpathError {
  return error instanceof FeedpathError;
}

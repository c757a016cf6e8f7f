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
  targetUnreachable: 'FP_TARGET_UNREACHABLE',
  authRejected: 'FP_AUTH_REJECTED',
  peerSilent: 'FP_PEER_SILENT',
  /** The forwarder cannot connect to a receiver (a warning: it keeps trying with backoff). */
  receiverUnreachable: 'FP_RECEIVER_UNREACHABLE',
  /** A receiver fell so far behind that the forwarder cut it off (a warning: it reconnects). */
  receiverSlow: 'FP_RECEIVER_SLOW',
  badInput: 'FP_BAD_INPUT',
  agentFailed: 'FP_AGENT_FAILED',
  /** A results file cannot be analysed: missing, empty, or not in the seed's CSV format. */
  badResults: 'FP_BAD_RESULTS',
  /** No path of a run has a single readable sample: there is nothing to report. */
  nothingToAnalyze: 'FP_NOTHING_TO_ANALYZE',
  /** The results store (local folder or S3) failed to list, read or write. */
  storeFailed: 'FP_STORE_FAILED',
  /** A write failed because the disk is full (ENOSPC): the run stops, what was written is kept. */
  diskFull: 'FP_DISK_FULL',
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

/** True when an error or message is the system's "no space left on device" (ENOSPC). */
function isDiskFull(error: unknown): boolean {
  if (typeof error === 'string') return /\bENOSPC\b|no space left on device/i.test(error);
  // Duck-typed, not `instanceof Error`: a system error from another realm (a vm context, a worker)
  // is no instance of this realm's Error.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, cause } = error as { code?: unknown; message?: unknown; cause?: unknown };
  return code === 'ENOSPC' || isDiskFull(message) || (cause !== undefined && isDiskFull(cause));
}

/**
 * An error as the user should see it: a FeedpathError as it is, a full disk as FP_DISK_FULL (one line
 * that says what to do), anything else null (a bug: the caller shows its stack).
 */
export function userError(error: unknown): FeedpathError | null {
  if (isDiskFull(error)) {
    const detail = String((error as { message?: unknown }).message ?? error);
    return new FeedpathError(
      ErrorCode.diskFull,
      `the disk is full (${detail}): free some space; what was written so far is kept`,
      { cause: error },
    );
  }
  return isFeedpathError(error) ? error : null;
}

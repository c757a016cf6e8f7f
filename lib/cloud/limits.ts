/**
 * The workflow's time budget. The ASL repeats these numbers (a test checks they agree): every
 * polling loop is bounded, so an execution reaches teardown long before the state machine's own
 * `TimeoutSeconds`, which is only the backstop (an execution stopped by it cannot tear down; the
 * sweeper deletes its stacks once their expiry tag has passed).
 */

/** The reference experiment's duration. */
export const DEFAULT_DURATION_SECONDS = 300;
export const MIN_DURATION_SECONDS = 10;
/** A day: Binance closes a connection at 24 h anyway. */
export const MAX_DURATION_SECONDS = 86_400;

export interface PollLimit {
  /** The Wait state between two polls. */
  readonly waitSeconds: number;
  /** The Choice state gives up after this many polls. */
  readonly maxPolls: number;
  /** TimeoutSeconds of the polling Task. */
  readonly taskTimeoutSeconds: number;
}

export const POLL = {
  /** Site stacks: VPC, instance, Node installed, chrony synced, cfn-signal (typically 3–5 min). */
  provision: { waitSeconds: 20, maxPolls: 45, taskTimeoutSeconds: 60 },
  /** Peering stacks, requester then accepter (typically 1–2 min). */
  connect: { waitSeconds: 10, maxPolls: 60, taskTimeoutSeconds: 60 },
  /** Instances registering with SSM (usually online before their stack completes). */
  agentsOnline: { waitSeconds: 10, maxPolls: 60, taskTimeoutSeconds: 60 },
  /** After the run's duration: agents writing and uploading their files. */
  run: { waitSeconds: 15, maxPolls: 40, taskTimeoutSeconds: 60 },
  /** Stack deletion, peering first then sites (instance termination takes minutes). */
  teardown: { waitSeconds: 20, maxPolls: 90, taskTimeoutSeconds: 120 },
} as const satisfies Record<string, PollLimit>;

/** TimeoutSeconds of the one-shot Tasks (prepare, provision, start an agent). */
export const TASK_TIMEOUT_SECONDS = 120;
/** TimeoutSeconds of the analysis (a long run has millions of rows per path). */
export const ANALYZE_TIMEOUT_SECONDS = 900;

/** Retry of transient errors (Lambda service errors, throttling) on every Task. */
export const TRANSIENT_RETRY = {
  intervalSeconds: 2,
  backoffRate: 2,
  maxAttempts: 4,
  maxDelaySeconds: 30,
} as const;
/** Retry of any error on the teardown Task: it must not give up on a hiccup. */
export const TEARDOWN_RETRY = {
  intervalSeconds: 5,
  backoffRate: 2,
  maxAttempts: 6,
  maxDelaySeconds: 60,
} as const;

/** An agent's command may run this long past the run's duration (start-up, upload) before SSM kills it. */
export const AGENT_GRACE_SECONDS = 600;

function loopSeconds(limit: PollLimit): number {
  return limit.maxPolls * (limit.waitSeconds + limit.taskTimeoutSeconds);
}

/**
 * Everything but the run's own duration, worst case without retry storms: each loop at its bound,
 * each Task at its timeout.
 */
export function overheadBudgetSeconds(): number {
  return (
    TASK_TIMEOUT_SECONDS + // PrepareRun
    TASK_TIMEOUT_SECONDS + // ProvisionSites
    loopSeconds(POLL.provision) +
    loopSeconds(POLL.connect) +
    loopSeconds(POLL.agentsOnline) +
    2 * TASK_TIMEOUT_SECONDS + // RunReceiver, RunForwarder
    loopSeconds(POLL.run) +
    ANALYZE_TIMEOUT_SECONDS +
    loopSeconds(POLL.teardown)
  );
}

/** The state machine's TimeoutSeconds: the longest allowed run plus the overhead, rounded up to an hour. */
export function workflowTimeoutSeconds(): number {
  return Math.ceil((MAX_DURATION_SECONDS + overheadBudgetSeconds()) / 3600) * 3600;
}

/** How long after its start a run's stacks may be swept: by then its execution has surely ended. */
export function expirySeconds(durationSeconds: number): number {
  return durationSeconds + overheadBudgetSeconds() + 3600;
}

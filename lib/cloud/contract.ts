/**
 * What each Task of the workflow receives and returns: the Lambdas validate their events with these
 * schemas, and the local runner's handlers (cli/workflow.ts) take and return the same shapes.
 * The ASL builds each event with `Parameters` and keeps what it needs with `ResultSelector`.
 */
import { z } from 'zod';
import { executionRefSchema, runPlanSchema, SITE_ROLES } from './run';

export const siteStatusSchema = z
  .object({ role: z.enum(SITE_ROLES), region: z.string(), stackName: z.string(), status: z.string() })
  .strict();
export type SiteStatus = z.infer<typeof siteStatusSchema>;

/** A site whose stack is complete: what the later Tasks need to reach it. */
export const siteReadySchema = siteStatusSchema
  .extend({
    cidr: z.string(),
    instanceId: z.string().min(1),
    privateIp: z.string().min(1),
    vpcId: z.string().min(1),
    routeTableId: z.string().min(1),
    /** The site's zone by AZ ID (the same physical zone in every account). */
    availabilityZoneId: z.string().min(1),
  })
  .strict();
export type SiteReady = z.infer<typeof siteReadySchema>;

/** PrepareRun: the raw execution input and the execution's identity. */
export const prepareEventSchema = z.object({ input: z.unknown(), execution: executionRefSchema }).strict();
export type PrepareEvent = z.infer<typeof prepareEventSchema>;

/** ProvisionSites, ProvisionDescribeSites, AnalyzeResults, TeardownRun. */
export const runEventSchema = z.object({ run: runPlanSchema }).strict();
export type RunEvent = z.infer<typeof runEventSchema>;

/** ConnectSites, ConnectAgents. */
export const sitesEventSchema = z
  .object({ run: runPlanSchema, sites: z.array(siteReadySchema).min(1) })
  .strict();
export type SitesEvent = z.infer<typeof sitesEventSchema>;

/** RunReceiver, RunForwarder. */
export const startAgentEventSchema = sitesEventSchema.extend({ role: z.enum(SITE_ROLES) }).strict();
export type StartAgentEvent = z.infer<typeof startAgentEventSchema>;

const oneAgentCommandSchema = z
  .object({ role: z.enum(SITE_ROLES), region: z.string(), instanceId: z.string(), commandId: z.string() })
  .strict();

/**
 * A started agent. RunReceiver starts every receiver of the run: its result is the first one's
 * command, and `receivers` lists all of them (the first included), which RunPollAgents polls.
 */
export const agentCommandSchema = oneAgentCommandSchema
  .extend({ receivers: z.array(oneAgentCommandSchema).optional() })
  .strict();
export type AgentCommand = z.infer<typeof agentCommandSchema>;

/** RunPollAgents. */
export const pollAgentsEventSchema = z
  .object({
    run: runPlanSchema,
    agents: z
      .object({ receiver: agentCommandSchema.optional(), forwarder: agentCommandSchema.optional() })
      .strict(),
  })
  .strict();
export type PollAgentsEvent = z.infer<typeof pollAgentsEventSchema>;

export interface ProvisionSitesResult {
  stacks: SiteStatus[];
}

/** Ready when every site stack is complete; only then do the sites carry their outputs. */
export type DescribeSitesResult =
  | { ready: false; sites: SiteStatus[] }
  | {
      ready: true;
      /** The sites the run goes on with (a dropped receiver region is not among them). */
      sites: SiteReady[];
      /** Receiver regions left out (`regionFailure: "continue"`), also recorded in run.json. */
      dropped?: Array<{ region: string; cause: string }>;
    };

export interface ConnectSitesResult {
  connected: boolean;
  /** Set once the requester stack is complete. */
  peeringConnectionId: string | null;
}

export interface ConnectAgentsResult {
  online: boolean;
  instances: Array<{ role: string; instanceId: string; pingStatus: string }>;
}

export interface PollAgentsResult {
  done: boolean;
  agents: Array<{ role: string; status: string }>;
}

export interface AnalyzeResult {
  runId: string;
  bucket: string;
  prefix: string;
  /** Keys of the report files, under the run's prefix. */
  report: { json: string; markdown: string; html: string };
  verdict: string;
}

export interface TeardownResult {
  done: boolean;
  /** Stacks still to be deleted. */
  remaining: string[];
  /** Stacks confirmed gone. */
  deleted: string[];
}

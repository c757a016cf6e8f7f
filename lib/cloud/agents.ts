/**
 * Connect and run the agents through SSM: wait until the instances are online, start each agent with
 * `AWS-RunShellScript`, and poll the commands. The script fetches the agent bundle the prepare step
 * staged under the run's prefix, runs it with its configuration, records the host's clock error
 * bound from chrony before and after (`clock/<role>.json`), and uploads whatever the agent wrote
 * (the run's CSVs and JSONs, `metrics/<agent>.json`, `logs/<role>.*`), even when it fails or times out.
 */
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { randomBytes } from 'node:crypto';
import { AGENT_NODE_FLAGS } from '../node-flags';
import type { RegionalClient } from './clients';
import type {
  AgentCommand,
  ConnectAgentsResult,
  PollAgentsEvent,
  PollAgentsResult,
  SiteReady,
  SitesEvent,
  StartAgentEvent,
} from './contract';
import { AgentFailedError, AgentTimedOutError } from './errors';
import { AGENT_GRACE_SECONDS } from './limits';
import { receiverUploadPrefix, type RunPlan, type SiteRole } from './run';
import { rethrowCloudError } from './stacks';

export interface AgentDeps {
  ssm: RegionalClient<SSMClient>;
}

export const RUN_SHELL_DOCUMENT = 'AWS-RunShellScript';
/** Where the agents work on the instance (the site's UserData creates it). */
export const AGENT_WORK_ROOT = '/var/lib/feedpath';
/** Exit code of the run script when the agent had to be stopped by `timeout`. */
export const AGENT_TIMEOUT_EXIT_CODE = 124;
/** A command not delivered to its instance within this long is not run at all. */
export const COMMAND_DELIVERY_TIMEOUT_SECONDS = 600;

/** The key of an agent's bundle (staged by PrepareRun), relative to the bucket. */
export function agentBundleKey(run: Pick<RunPlan, 'prefix'>, role: SiteRole): string {
  return `${run.prefix}agents/${role}.js`;
}

/**
 * Where PrepareRun puts the run's relay token (the secret the forwarder presents to the receiver):
 * an object in the encrypted bucket that the run's instances read at start, so the token is never
 * in the workflow's state (execution history), the SSM command's parameters or a log. A new token
 * is drawn for every run.
 */
export function relayTokenKey(run: Pick<RunPlan, 'prefix'>): string {
  return `${run.prefix}secret/relay-token`;
}

/** A new relay token: 24 random bytes, base64url. */
export function newRelayToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The comment that identifies a run's command for an agent (how a retried start finds it); with
 * several receivers each receiver's names its region.
 */
export function commandComment(
  run: Pick<RunPlan, 'runId' | 'receivers'>,
  role: SiteRole,
  region?: string,
): string {
  const where =
    role === 'receiver' && run.receivers !== undefined && region !== undefined ? ` ${region}` : '';
  return `feedpath ${run.runId} ${role}${where}`;
}

function siteOf(sites: SiteReady[], role: SiteRole): SiteReady {
  const site = sites.find((s) => s.role === role);
  if (site === undefined) throw new Error(`no ${role} site in the Task input`);
  return site;
}

/** ConnectAgents: online when every instance's SSM agent answers. */
export async function connectAgents({ sites }: SitesEvent, deps: AgentDeps): Promise<ConnectAgentsResult> {
  const byRegion = new Map<string, SiteReady[]>();
  for (const site of sites) byRegion.set(site.region, [...(byRegion.get(site.region) ?? []), site]);
  const pings = new Map<string, string>();
  await Promise.all(
    [...byRegion].map(async ([region, regional]) => {
      try {
        const { InstanceInformationList } = await deps.ssm(region).send(
          new DescribeInstanceInformationCommand({
            Filters: [{ Key: 'InstanceIds', Values: regional.map((s) => s.instanceId) }],
          }),
        );
        for (const info of InstanceInformationList ?? []) {
          if (info.InstanceId !== undefined) pings.set(info.InstanceId, info.PingStatus ?? 'Unknown');
        }
      } catch (error) {
        rethrowCloudError(error, `describe SSM instances in ${region}`);
      }
    }),
  );
  const instances = sites.map((site) => ({
    role: site.role,
    instanceId: site.instanceId,
    pingStatus: pings.get(site.instanceId) ?? 'NotRegistered',
  }));
  return { online: instances.every((i) => i.pingStatus === 'Online'), instances };
}

/** The agent's configuration (agents/<role>/config.ts); the token travels in the environment. */
export function agentConfig(run: RunPlan, role: SiteRole, sites: SiteReady[]): Record<string, unknown> {
  const common = {
    exchangeUrl: run.input.exchangeUrl,
    streams: run.input.streams,
    durationSeconds: run.input.durationSeconds,
    outDir: 'out',
  };
  if (role === 'receiver')
    return {
      ...common,
      mode: run.input.mode,
      // The A/A control needs the baseline it is compared with.
      control: run.input.control && run.input.mode !== 'backbone',
      // The capture is of the direct connection: there is none in backbone mode.
      record: run.input.record && run.input.mode !== 'backbone',
      host: '0.0.0.0',
      port: run.backbonePort,
    };
  // The forwarder fans out to every receiver still in the run (its relay queues are per receiver).
  const receivers = receiverSites(sites);
  return {
    ...common,
    receivers: receivers.map((site) => ({ host: site.privateIp, port: run.backbonePort })),
  };
}

/** The receiver sites of the Task input (those still in the run); there is always one at least. */
function receiverSites(sites: readonly SiteReady[]): SiteReady[] {
  const receivers = sites.filter((site) => site.role === 'receiver');
  if (receivers.length === 0) throw new Error('no receiver site in the Task input');
  return receivers;
}

/** POSIX-shell single quoting. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

export interface AgentScriptOptions {
  run: RunPlan;
  role: SiteRole;
  config: Record<string, unknown>;
  /** Where the agent's files go in the bucket; default: the run's prefix. */
  uploadPrefix?: string;
}

/** The agent's own deadline: its duration plus half the grace; SSM's execution timeout is later still. */
export function agentTimeoutSeconds(run: RunPlan): number {
  return run.input.durationSeconds + AGENT_GRACE_SECONDS / 2;
}

/**
 * The lines of the `AWS-RunShellScript` command. POSIX sh; every value is quoted. The clock error
 * bound is |system time offset| + root dispersion + root delay / 2 (`chronyc -c tracking` fields
 * 5, 12 and 11, seconds), as Amazon Time Sync documents it.
 */
export function agentScript({ run, role, config, uploadPrefix = run.prefix }: AgentScriptOptions): string[] {
  const work = `${AGENT_WORK_ROOT}/${run.runId}/${role}`;
  const timeout = agentTimeoutSeconds(run);
  const configJson = JSON.stringify(config);
  return [
    'set -u',
    `ROLE=${shellQuote(role)}`,
    `BUCKET=${shellQuote(run.bucket)}`,
    `PREFIX=${shellQuote(run.prefix)}`,
    `UPLOAD=${shellQuote(uploadPrefix)}`,
    `REGION=${shellQuote(run.bucketRegion)}`,
    `WORK=${shellQuote(work)}`,
    'rm -rf "$WORK" && mkdir -p "$WORK/out/clock" "$WORK/out/logs" && cd "$WORK" || exit 1',
    'tracking() {',
    '  chronyc -c tracking 2>/dev/null | awk -F, -v at="$1" \'NF >= 12 { o = ($5 < 0) ? -$5 : $5;' +
      ' printf "{\\"at\\":\\"%s\\",\\"offsetSeconds\\":%s,\\"rootDelaySeconds\\":%s,\\"rootDispersionSeconds\\":%s,\\"errorBoundMs\\":%.6f}",' +
      " at, $5, $11, $12, (o + $12 + $11 / 2) * 1000 }'",
    '}',
    'upload() {',
    '  CLOCK_END=$(tracking end)',
    '  printf \'{"role":"%s","host":"%s","start":%s,"end":%s}\\n\' "$ROLE" "$(hostname)" "${CLOCK_START:-null}" "${CLOCK_END:-null}" > "out/clock/$ROLE.json"',
    '  aws s3 cp --recursive --only-show-errors --region "$REGION" out/ "s3://$BUCKET/$UPLOAD" || echo "feedpath: uploading the results failed" >&2',
    '}',
    "cat > config.json <<'FEEDPATH_CONFIG'",
    configJson,
    'FEEDPATH_CONFIG',
    'aws s3 cp --only-show-errors --region "$REGION" "s3://$BUCKET/${PREFIX}agents/$ROLE.js" agent.js || { echo "feedpath: cannot fetch the $ROLE agent bundle" >&2; exit 1; }',
    'CLOCK_START=$(tracking start)',
    // The relay token comes from the bucket (relayTokenKey), never from the command's parameters.
    `aws s3 cp --only-show-errors --region "$REGION" ${shellQuote(`s3://${run.bucket}/${relayTokenKey(run)}`)} relay-token || { echo "feedpath: cannot fetch the relay token" >&2; exit 1; }`,
    'FEEDPATH_RELAY_TOKEN=$(cat relay-token) && rm -f relay-token && export FEEDPATH_RELAY_TOKEN',
    `timeout --kill-after=30 ${timeout} node-22 ${AGENT_NODE_FLAGS.join(' ')} agent.js --config config.json > "out/logs/$ROLE.events.jsonl" 2> "out/logs/$ROLE.stderr.log"`,
    'RC=$?',
    'upload',
    'tail -n 20 "out/logs/$ROLE.stderr.log" >&2',
    'tail -n 5 "out/logs/$ROLE.events.jsonl"',
    `if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then echo "feedpath: the $ROLE agent did not finish within ${timeout} s" >&2; exit ${AGENT_TIMEOUT_EXIT_CODE}; fi`,
    'exit "$RC"',
  ];
}

/**
 * RunReceiver / RunForwarder: sends the agent's command, or finds the one a retried Task already
 * sent. RunReceiver starts every receiver site of the Task input at once; its result is the first
 * receiver's command with `receivers` listing them all.
 */
export async function startAgent(
  { run, sites, role }: StartAgentEvent,
  deps: AgentDeps,
): Promise<AgentCommand> {
  if (role === 'forwarder') return startOne(run, siteOf(sites, role), sites, deps);
  const receivers = receiverSites(sites);
  // Every receiver is asked even when one fails, so a retried Task finds the others' commands.
  const started = await Promise.allSettled(receivers.map((site) => startOne(run, site, sites, deps)));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const commands = started.map((outcome) => (outcome as PromiseFulfilledResult<AgentCommand>).value);
  return { ...(commands[0] as AgentCommand), receivers: commands };
}

async function startOne(
  run: RunPlan,
  site: SiteReady,
  sites: SiteReady[],
  deps: AgentDeps,
): Promise<AgentCommand> {
  const role = site.role;
  const client = deps.ssm(site.region);
  const comment = commandComment(run, role, site.region);
  const uploadPrefix = role === 'receiver' ? receiverUploadPrefix(run, site.region) : run.prefix;
  try {
    const { Commands } = await client.send(new ListCommandsCommand({ InstanceId: site.instanceId }));
    const sent = (Commands ?? []).find((c) => c.Comment === comment && c.CommandId !== undefined);
    if (sent?.CommandId !== undefined) {
      return { role, region: site.region, instanceId: site.instanceId, commandId: sent.CommandId };
    }
    const { Command } = await client.send(
      new SendCommandCommand({
        DocumentName: RUN_SHELL_DOCUMENT,
        InstanceIds: [site.instanceId],
        Comment: comment,
        TimeoutSeconds: COMMAND_DELIVERY_TIMEOUT_SECONDS,
        Parameters: {
          commands: agentScript({ run, role, config: agentConfig(run, role, sites), uploadPrefix }),
          executionTimeout: [String(run.input.durationSeconds + AGENT_GRACE_SECONDS)],
        },
        OutputS3BucketName: run.bucket,
        OutputS3KeyPrefix: `${uploadPrefix}logs/ssm/${role}`,
        OutputS3Region: run.bucketRegion,
      }),
    );
    if (Command?.CommandId === undefined) throw new Error(`SSM returned no command id for the ${role} agent`);
    return { role, region: site.region, instanceId: site.instanceId, commandId: Command.CommandId };
  } catch (error) {
    return rethrowCloudError(error, `start the ${role} agent on ${site.instanceId}`);
  }
}

const FINISHED = new Set(['Success', 'Failed', 'TimedOut', 'Cancelled']);

/**
 * RunPollAgents: done when every agent's command has finished. A failure is raised only once all
 * have finished, so that a healthy agent still uploads its samples when its peer died.
 */
export async function pollAgents({ agents }: PollAgentsEvent, deps: AgentDeps): Promise<PollAgentsResult> {
  const receivers = agents.receiver === undefined ? [] : (agents.receiver.receivers ?? [agents.receiver]);
  const commands = [...receivers, agents.forwarder].filter((a): a is AgentCommand => a !== undefined);
  const results = await Promise.all(
    commands.map(async (command) => {
      try {
        const invocation = await deps
          .ssm(command.region)
          .send(
            new GetCommandInvocationCommand({ CommandId: command.commandId, InstanceId: command.instanceId }),
          );
        return {
          command,
          status: invocation.Status ?? 'Pending',
          code: invocation.ResponseCode ?? -1,
          stderr: invocation.StandardErrorContent ?? '',
        };
      } catch (error) {
        // Just after SendCommand the invocation may not be visible yet.
        if ((error as { name?: string }).name === 'InvocationDoesNotExist') {
          return { command, status: 'Pending', code: -1, stderr: '' };
        }
        return rethrowCloudError(error, `poll the ${command.role} agent`);
      }
    }),
  );
  const done = results.every((r) => FINISHED.has(r.status));
  if (done) {
    for (const r of results) {
      const who =
        receivers.length > 1 && r.command.role === 'receiver'
          ? `receiver (${r.command.region})`
          : r.command.role;
      const where = `the ${who} agent (command ${r.command.commandId} on ${r.command.instanceId})`;
      const tail = r.stderr.trim().split('\n').slice(-5).join(' | ');
      if (r.status === 'TimedOut' || (r.status === 'Failed' && r.code === AGENT_TIMEOUT_EXIT_CODE)) {
        throw new AgentTimedOutError(`${where} timed out${tail ? `: ${tail}` : ''}`);
      }
      if (r.status !== 'Success') {
        throw new AgentFailedError(`${where} ended ${r.status} (exit ${r.code})${tail ? `: ${tail}` : ''}`);
      }
    }
  }
  return { done, agents: results.map((r) => ({ role: r.command.role, status: r.status })) };
}

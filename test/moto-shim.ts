/**
 * A `moto_server` on loopback with a small proxy in front of it, for the integration test of the
 * workflow against an independent AWS emulator (test/moto.test.ts). The proxy forwards every
 * request to moto, answers the one API moto lacks (SSM DescribeInstanceInformation, from the
 * instances moto's EC2 runs), stands in for the agents moto cannot run (after SendCommand it
 * uploads files written by the real SampleWriter and ResourceSampler under the run's prefix), and
 * injects the faults a test asks for.
 */
import type { RelayLinkStatus } from '../agents/forwarder/relay-link';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ResourceSampler } from '../lib/resources';
import { resultsCsvName, SampleWriter, type PathName } from '../lib/samples';

/** True when `moto_server` is on PATH. */
export function motoAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).status === 0;
}

/** What the proxy makes go wrong; every field off by default. */
export interface MotoFaults {
  /** SendCommand is refused (AccessDeniedException). */
  refuseSendCommand: boolean;
  /** DescribeInstanceInformation reports every instance ConnectionLost. */
  neverOnline: boolean;
  /** The agent of this role ends Failed (exit 2) in GetCommandInvocation. */
  failedAgent: 'receiver' | 'forwarder' | undefined;
  /** The agents upload nothing. */
  nothingUploaded: boolean;
  /** DeleteStack is refused (AccessDenied) for stack names ending with one of these. */
  refuseDelete: string[];
  /** Listing the stacks (DescribeStacks without a name) fails in these regions. */
  unlistableRegions: string[];
  /**
   * A stack whose name ends with one of these reads ROLLBACK_COMPLETE once created (as when AWS
   * cannot place its instance): a fault in one region's provisioning. Its resources stay in moto
   * until the stack is deleted, as a rolled-back stack's would not — a stricter check of teardown.
   */
  rolledBack: string[];
}

const NO_FAULTS: MotoFaults = {
  refuseSendCommand: false,
  neverOnline: false,
  failedAgent: undefined,
  nothingUploaded: false,
  refuseDelete: [],
  unlistableRegions: [],
  rolledBack: [],
};

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The region of a SigV4-signed request (its credential scope). */
function regionOf(req: IncomingMessage): string {
  const auth = req.headers.authorization ?? '';
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(auth)?.[1] ?? 'us-east-1';
}

function jsonReply(status: number, value: unknown): Reply {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/** An error in the CloudFormation (awsQuery) protocol's shape. */
function queryError(status: number, code: string, message: string): Reply {
  const xml =
    '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' +
    `<Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
    '<RequestId>moto-shim</RequestId></ErrorResponse>';
  return { status, headers: { 'content-type': 'text/xml' }, body: Buffer.from(xml) };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/**
 * What an agent leaves in its `out/` folder, written by the producers themselves: the receiver's
 * sample CSVs (SampleWriter) and each agent's resource metrics (ResourceSampler).
 */
async function writeAgentFiles(dir: string, role: string, paths: readonly PathName[]): Promise<void> {
  const rows = 200;
  const counts: Record<string, number> = {};
  const sampler = await ResourceSampler.start({
    agent: role,
    dir,
    counters: () => counts,
    intervalMs: 10,
    clockErrorBound: () => Promise.resolve(0.25),
  });
  if (role === 'receiver') {
    const start = 1_763_776_000_000_000; // µs
    for (const path of paths) {
      const writer = await SampleWriter.create(join(dir, resultsCsvName(path)));
      for (let i = 0; i < rows; i++) {
        const eUs = start + i * 30_000;
        const base = BigInt(eUs) * 1000n;
        writer.append({
          id: 1000 + i,
          stream: 'btcusdt@trade',
          symbol: 'BTCUSDT',
          exchangeTimeUs: eUs,
          firstId: undefined,
          forwarderNs: path === 'backbone' ? base + 2_000_000n : undefined,
          receiverNs: base + (path === 'backbone' ? 115_000_000n : 114_000_000n) + BigInt(i % 7) * 100_000n,
        });
      }
      await writer.close();
      counts[path] = rows;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 40));
  // The forwarder's done details carry its relay links' status, bytes written included (the cost).
  const relayLink: RelayLinkStatus = {
    receiver: '10.10.0.10:9100',
    connected: false,
    relayed: 200,
    relayed_bytes: 2_000_000_000,
    dropped: 0,
    cutoffs: 0,
    connects: 1,
    auth_rejections: 0,
    max_buffered_bytes: 4096,
  };
  await sampler.stop(role === 'forwarder' ? { receivers: [relayLink] } : {});
}

export class MotoShim {
  faults: MotoFaults = { ...NO_FAULTS };
  /** Commands SendCommand accepted: id → the role and the run prefix of its script. */
  readonly commands = new Map<string, { role: string; prefix: string }>();
  private readonly s3: S3Client;
  private readonly ec2 = new Map<string, EC2Client>();

  private constructor(
    private readonly moto: ChildProcess,
    private readonly server: Server,
    /** moto itself, bypassing the proxy (for setup and for looking at what is left). */
    readonly motoEndpoint: string,
    /** The proxy: what AWS_ENDPOINT_URL points at. */
    readonly endpoint: string,
    private readonly bucket: string,
  ) {
    this.s3 = new S3Client({ region: 'us-east-1', endpoint: motoEndpoint, forcePathStyle: true });
  }

  /** Starts moto_server on a free loopback port and the proxy in front of it. */
  static async start(bucket: string): Promise<MotoShim> {
    const port = await freePort();
    const moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const motoEndpoint = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`${motoEndpoint}/moto-api/`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline || moto.exitCode !== null) {
        moto.kill();
        throw new Error(`moto_server did not start on port ${port}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxyPort = (server.address() as AddressInfo).port;
    const shim = new MotoShim(moto, server, motoEndpoint, `http://127.0.0.1:${proxyPort}`, bucket);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void shim.handle(req, res));
    return shim;
  }

  /** Forgets every resource and fault (moto's own reset). */
  async reset(): Promise<void> {
    this.faults = { ...NO_FAULTS };
    this.commands.clear();
    const response = await fetch(`${this.motoEndpoint}/moto-api/reset`, { method: 'POST' });
    if (!response.ok) throw new Error(`moto reset: HTTP ${response.status}`);
  }

  async stop(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    await closed;
    this.s3.destroy();
    for (const client of this.ec2.values()) client.destroy();
    if (this.moto.exitCode === null) {
      const exited = new Promise((resolve) => this.moto.once('exit', resolve));
      this.moto.kill();
      await exited;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      const reply = (await this.intercept(req, body)) ?? (await this.forward(req, body));
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body);
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`moto shim: ${(error as Error).stack ?? String(error)}`);
    }
  }

  private forward(req: IncomingMessage, body: Buffer): Promise<Reply> {
    const target = new URL(req.url ?? '/', this.motoEndpoint);
    return new Promise((resolve, reject) => {
      const upstream = request(
        target,
        { method: req.method, headers: { ...req.headers, 'content-length': String(body.length) } },
        (response) => {
          readBody(response).then((data) => {
            const headers: Record<string, string> = {};
            for (const [key, value] of Object.entries(response.headers)) {
              if (value !== undefined && key !== 'transfer-encoding' && key !== 'connection')
                headers[key] = Array.isArray(value) ? value.join(', ') : value;
            }
            headers['content-length'] = String(data.length);
            resolve({ status: response.statusCode ?? 502, headers, body: data });
          }, reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });
  }

  /** A reply of the shim's own, or undefined to forward the request to moto as it is. */
  private async intercept(req: IncomingMessage, body: Buffer): Promise<Reply | undefined> {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith('AmazonSSM.')) return this.ssm(req, target.slice('AmazonSSM.'.length), body);
    const form = new URLSearchParams(body.toString('utf8'));
    const action = form.get('Action');
    const stackName = form.get('StackName');
    if (action === 'DeleteStack' && stackName !== null) {
      if (this.faults.refuseDelete.some((suffix) => stackName.endsWith(suffix))) {
        return queryError(
          403,
          'AccessDenied',
          `User is not authorized to perform: cloudformation:DeleteStack on ${stackName}`,
        );
      }
      // moto deletes the stack, then answers DependencyViolation for the VPC it leaves behind (its
      // IGW and route tables stay). AWS accepts the request and deletes asynchronously: answer so.
      const reply = await this.forward(req, body);
      if (reply.status === 400 && reply.body.toString('utf8').includes('<Code>DependencyViolation</Code>')) {
        const xml =
          '<DeleteStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' +
          '<ResponseMetadata><RequestId>moto-shim</RequestId></ResponseMetadata></DeleteStackResponse>';
        return { status: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(xml) };
      }
      return reply;
    }
    if (
      action === 'DescribeStacks' &&
      stackName !== null &&
      this.faults.rolledBack.some((suffix) => stackName.endsWith(suffix))
    ) {
      const reply = await this.forward(req, body);
      const text = reply.body
        .toString('utf8')
        .replace(
          '<StackStatus>CREATE_COMPLETE</StackStatus>',
          '<StackStatus>ROLLBACK_COMPLETE</StackStatus>',
        );
      const data = Buffer.from(text);
      return { ...reply, headers: { ...reply.headers, 'content-length': String(data.length) }, body: data };
    }
    if (action === 'DescribeStacks' && stackName === null) {
      if (this.faults.unlistableRegions.includes(regionOf(req))) {
        return queryError(
          403,
          'InvalidClientTokenId',
          'The security token included in the request is invalid.',
        );
      }
    }
    return undefined;
  }

  private async ssm(req: IncomingMessage, operation: string, body: Buffer): Promise<Reply | undefined> {
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    if (operation === 'DescribeInstanceInformation') {
      const filters = (input.Filters ?? []) as Array<{ Key: string; Values: string[] }>;
      const ids = filters.find((f) => f.Key === 'InstanceIds')?.Values ?? [];
      const running = await this.runningInstances(regionOf(req), ids);
      return jsonReply(200, {
        InstanceInformationList: running.map((InstanceId) => ({
          InstanceId,
          PingStatus: this.faults.neverOnline ? 'ConnectionLost' : 'Online',
          PlatformType: 'Linux',
        })),
      });
    }
    if (operation === 'SendCommand') {
      if (this.faults.refuseSendCommand) {
        return jsonReply(400, {
          __type: 'AccessDeniedException',
          message: 'User is not authorized to perform: ssm:SendCommand',
        });
      }
      const reply = await this.forward(req, body);
      if (reply.status === 200) await this.runAgent(input, reply);
      return reply;
    }
    if (operation === 'GetCommandInvocation' && this.faults.failedAgent !== undefined) {
      const command = this.commands.get(String(input.CommandId));
      const reply = await this.forward(req, body);
      if (reply.status !== 200 || command?.role !== this.faults.failedAgent) return reply;
      const invocation = JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
      return jsonReply(200, {
        ...invocation,
        Status: 'Failed',
        StatusDetails: 'Failed',
        ResponseCode: 2,
        StandardErrorContent: `${command.role}: FP_BAD_CONFIG`,
      });
    }
    return undefined;
  }

  private async runningInstances(region: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    let client = this.ec2.get(region);
    if (client === undefined) {
      client = new EC2Client({ region, endpoint: this.motoEndpoint });
      this.ec2.set(region, client);
    }
    const { Reservations } = await client.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'instance-id', Values: ids },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    return (Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId ?? ''));
  }

  /**
   * What the agent's command does on its instance, as far as the workflow can see: the files it
   * uploads under the run's prefix (taken from the script SSM was given).
   */
  private async runAgent(input: Record<string, unknown>, reply: Reply): Promise<void> {
    const role = String(input.Comment ?? '').split(' ')[2] ?? '';
    const commands = ((input.Parameters as Record<string, string[]> | undefined)?.commands ?? []).join('\n');
    // Where the script uploads: UPLOAD (receivers/<region>/ of a multi-receiver run), else PREFIX.
    const prefix =
      /^UPLOAD='([^']+)'$/m.exec(commands)?.[1] ?? /^PREFIX='([^']+)'$/m.exec(commands)?.[1] ?? '';
    const config = /^(\{.*\})$/m.exec(commands)?.[1];
    const mode = (config === undefined ? undefined : (JSON.parse(config) as { mode?: string }).mode) ?? '';
    const commandId = (JSON.parse(reply.body.toString('utf8')) as { Command: { CommandId: string } }).Command
      .CommandId;
    this.commands.set(commandId, { role, prefix });
    if (this.faults.nothingUploaded || prefix === '') return;
    const dir = mkdtempSync(join(tmpdir(), `feedpath-moto-${role}-`));
    try {
      const paths: PathName[] = mode === 'paired' ? ['baseline', 'backbone'] : [mode as PathName];
      await writeAgentFiles(dir, role, paths);
      await Promise.all(
        filesUnder(dir).map((file) =>
          this.s3.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: `${prefix}${relative(dir, file)}`,
              Body: readFileSync(file),
            }),
          ),
        ),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

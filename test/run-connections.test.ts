import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { ConnectionLog } from '../agents/common/connection-log';
import { ResourceSampler } from '../lib/resources';
import { addConnectionsToRunFile, readConnections } from '../lib/run-connections';
import { formatRunFile, runFileSchema } from '../lib/run-file';
import { LocalFolderStore } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';

/** `metrics/<agent>.json` as an agent writes it: the real sampler, with the agent's connection log. */
async function writeMetrics(dir: string, log: ConnectionLog): Promise<void> {
  const sampler = await ResourceSampler.start({
    agent: log.agent,
    dir,
    counters: () => ({ messages: 0 }),
    clockErrorBound: () => Promise.resolve(null),
    intervalMs: 10_000,
  });
  await sampler.stop({ connections: log.list() });
}

describe('run.json connections', () => {
  let dir: string;
  let server: Server;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    dir = await tempDir();
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    await removeDir(dir);
  });

  async function dial(): Promise<Socket> {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    sockets.push(socket);
    return socket;
  }

  it("adds every agent's connections to run.json, in opening order, with the sockets' addresses", async () => {
    const port = (server.address() as AddressInfo).port;
    const receiver = new ConnectionLog('receiver', 'baseline');
    const forwarder = new ConnectionLog('forwarder', 'backbone');
    const first = forwarder.opened('ws://exchange', await dial());
    await new Promise((resolve) => setTimeout(resolve, 5));
    receiver.opened('ws://exchange', await dial());
    forwarder.closed(first, 'closed by the server (code 1006)');
    forwarder.closed(first, 'stopped'); // the first reason is the cause
    await new Promise((resolve) => setTimeout(resolve, 5));
    forwarder.opened('ws://exchange', await dial());
    await writeMetrics(dir, receiver);
    await writeMetrics(dir, forwarder);
    await writeFile(join(dir, 'run.json'), formatRunFile({ runId: 'r1', where: 'local', causes: [] }));
    const store = new LocalFolderStore(dir);

    const added = await addConnectionsToRunFile(store, '');

    expect(added).toBe(true);
    const run = runFileSchema.parse(JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')));
    expect(run.runId).toBe('r1');
    expect(run.connections?.map((c) => `${c.agent} ${c.feed} ${c.ordinal}`)).toEqual([
      'forwarder backbone 1',
      'receiver baseline 1',
      'forwarder backbone 2',
    ]);
    expect(run.connections?.[0]).toMatchObject({
      remote: { address: '127.0.0.1', port },
      local: { address: '127.0.0.1', port: expect.any(Number) },
      close_reason: 'closed by the server (code 1006)',
    });
    expect(run.connections?.[2]).toMatchObject({ closed_at: null, close_reason: null });
  });

  it('leaves a run without connections (older agents) as it was', async () => {
    await mkdir(join(dir, 'metrics'));
    await writeMetrics(dir, new ConnectionLog('receiver', 'baseline'));
    const text = formatRunFile({ runId: 'r2', causes: [] });
    await writeFile(join(dir, 'run.json'), text);
    const store = new LocalFolderStore(dir);

    const added = await addConnectionsToRunFile(store, '');

    expect(added).toBe(false);
    expect(await readConnections(store, '')).toEqual([]);
    expect(await readFile(join(dir, 'run.json'), 'utf8')).toBe(text);
    expect(runFileSchema.parse(JSON.parse(text)).connections).toBeUndefined();
  });
});

/**
 * The SSM run script of an agent, executed by a real POSIX shell with stand-ins for `aws` (an S3 in
 * a folder), `chronyc`, `node-22` (a fake agent) and `timeout` (1 s instead of the run's duration):
 * it fetches the bundle, records the clock error bound, and uploads what the agent wrote even when
 * the agent fails or has to be stopped.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentScript, AGENT_TIMEOUT_EXIT_CODE } from '../lib/cloud/agents';
import { clockBounds, readHostFiles } from '../lib/analysis/hosts';
import { LocalFolderStore } from '../lib/store';
import { parseExperimentInput } from '../lib/cloud/input';
import { planRun } from '../lib/cloud/run';
import { AGENT_NODE_FLAGS } from '../lib/node-flags';

const STUBS: Record<string, string> = {
  aws: `#!/bin/sh
# aws s3 cp [--recursive] [--only-show-errors] [--region R] SRC DST, over the folder $FAKE_S3
[ "$1" = s3 ] && [ "$2" = cp ] || { echo "unexpected: aws $*" >&2; exit 2; }
shift 2
recursive=0
while [ $# -gt 2 ]; do
  case "$1" in --recursive) recursive=1 ;; --region) shift ;; esac
  shift
done
src=$(printf %s "$1" | sed "s#^s3://#$FAKE_S3/#")
dst=$(printf %s "$2" | sed "s#^s3://#$FAKE_S3/#")
if [ "$recursive" = 1 ]; then mkdir -p "$dst" && cp -R "$src"/. "$dst"; else [ -f "$src" ] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Not Found" >&2; exit 1; }; mkdir -p "$(dirname "$dst")" && cp "$src" "$dst"; fi
`,
  chronyc: `#!/bin/sh
echo "A9FEA97B,169.254.169.123,3,1763776000.123456789,-0.000012000,0.000001000,0.000005000,-12.345,0.001,0.020,0.000312000,0.000154000,16.1,Normal"
`,
  'node-22': `#!/bin/sh
# The fake agent: records its arguments and token, writes a sample file, then behaves as $FAKE_AGENT says.
echo "$*" > args.txt
echo "$FEEDPATH_RELAY_TOKEN" > token.txt
printf 'sequence_id,binance_time\\n1,2\\n' > out/baseline-results.csv
echo '{"event":"ready"}'
case "$FAKE_AGENT" in
  fail) echo "receiver: FP_EXCHANGE_UNREACHABLE" >&2; exit 1 ;;
  hang) exec sleep 30 ;;
esac
echo '{"event":"done"}'
`,
  timeout: `#!/bin/sh
# timeout --kill-after=30 <seconds> cmd...: the same, with 1 s
shift 2
exec /usr/bin/timeout 1 "$@"
`,
};

let dir: string;
let s3: string;
let work: string;
let stubs: string;

function script() {
  const input = parseExperimentInput({ mode: 'baseline', durationSeconds: 60 }, ['eu-central-1']);
  const run = planRun(
    input,
    { stage: 'test', bucket: 'results', bucketRegion: 'eu-central-1' },
    { id: 'x', startTime: '2026-11-22T02:02:31Z' },
  );
  const lines = agentScript({ run, role: 'receiver', config: { mode: 'baseline', outDir: 'out' } });
  return { run, text: lines.map((line) => (line.startsWith('WORK=') ? `WORK='${work}'` : line)).join('\n') };
}

function execute(agent: 'ok' | 'fail' | 'hang', text: string) {
  return spawnSync('sh', ['-c', text], {
    env: { PATH: `${stubs}:${process.env.PATH}`, FAKE_S3: s3, FAKE_AGENT: agent, HOME: dir },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'feedpath-script-'));
  s3 = join(dir, 's3');
  work = join(dir, 'work');
  stubs = join(dir, 'bin');
  mkdirSync(stubs);
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(join(stubs, name), body);
    chmodSync(join(stubs, name), 0o755);
  }
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'relay-token-of-this-run-0123456789';

function stage(prefix: string): string {
  const bundle = join(s3, 'results', prefix, 'agents', 'receiver.js');
  mkdirSync(join(bundle, '..'), { recursive: true });
  writeFileSync(bundle, '// receiver bundle\n');
  mkdirSync(join(s3, 'results', prefix, 'secret'), { recursive: true });
  writeFileSync(join(s3, 'results', prefix, 'secret', 'relay-token'), TOKEN);
  return join(s3, 'results', prefix);
}

describe('agent run script', () => {
  it('fetches the bundle, runs it with its config and token, and uploads results, logs and the clock bound', () => {
    const { run, text } = script();
    const uploaded = stage(run.prefix);

    const result = execute('ok', text);

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(readFileSync(join(work, 'agent.js'), 'utf8')).toBe('// receiver bundle\n');
    expect(readFileSync(join(work, 'args.txt'), 'utf8').trim()).toBe(
      `${AGENT_NODE_FLAGS.join(' ')} agent.js --config config.json`,
    );
    expect(readFileSync(join(work, 'token.txt'), 'utf8').trim()).toBe(TOKEN);
    expect(existsSync(join(work, 'relay-token'))).toBe(false);
    expect(JSON.parse(readFileSync(join(work, 'config.json'), 'utf8'))).toEqual({
      mode: 'baseline',
      outDir: 'out',
    });
    expect(readFileSync(join(uploaded, 'baseline-results.csv'), 'utf8')).toBe(
      'sequence_id,binance_time\n1,2\n',
    );
    expect(readFileSync(join(uploaded, 'logs', 'receiver.events.jsonl'), 'utf8')).toBe(
      '{"event":"ready"}\n{"event":"done"}\n',
    );
    const clock = JSON.parse(readFileSync(join(uploaded, 'clock', 'receiver.json'), 'utf8'));
    expect(clock).toMatchObject({
      role: 'receiver',
      start: {
        at: 'start',
        offsetSeconds: -0.000012,
        rootDelaySeconds: 0.000312,
        rootDispersionSeconds: 0.000154,
      },
      end: { at: 'end' },
    });
    // |offset| + root dispersion + root delay / 2 = 0.012 + 0.154 + 0.156 ms
    expect(clock.start.errorBoundMs).toBeCloseTo(0.322, 9);
  });

  it("writes the clock file the analysis reads: the host's bound reaches the report", async () => {
    const { run, text } = script();
    const uploaded = stage(run.prefix);
    execute('ok', text);

    const warnings: string[] = [];
    const bounds = clockBounds(await readHostFiles(new LocalFolderStore(uploaded), '', warnings));

    expect(warnings).toEqual([]);
    expect(bounds.receiver.source).toBe('clock/receiver.json');
    expect(bounds.receiver.error_bound_ms).toBeCloseTo(0.322, 9);
    expect(bounds.forwarder).toEqual({ error_bound_ms: null, source: 'not reported' });
  });

  it('uploads what a failing agent wrote and exits with its code, its stderr last', () => {
    const { run, text } = script();
    const uploaded = stage(run.prefix);

    const result = execute('fail', text);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('receiver: FP_EXCHANGE_UNREACHABLE');
    expect(existsSync(join(uploaded, 'baseline-results.csv'))).toBe(true);
    expect(readFileSync(join(uploaded, 'logs', 'receiver.stderr.log'), 'utf8')).toContain(
      'FP_EXCHANGE_UNREACHABLE',
    );
  });

  it('stops an agent that overruns, uploads what it had, and exits with the timeout code', () => {
    const { run, text } = script();
    const uploaded = stage(run.prefix);

    const result = execute('hang', text);

    expect(result.status).toBe(AGENT_TIMEOUT_EXIT_CODE);
    expect(result.stderr).toContain('feedpath: the receiver agent did not finish within 360 s');
    expect(readFileSync(join(uploaded, 'baseline-results.csv'), 'utf8')).toContain('1,2');
    expect(existsSync(join(uploaded, 'clock', 'receiver.json'))).toBe(true);
  });

  it('fails clearly when the agent bundle cannot be fetched', () => {
    const { text } = script();

    const result = execute('ok', text);

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('feedpath: cannot fetch the receiver agent bundle');
  });
});

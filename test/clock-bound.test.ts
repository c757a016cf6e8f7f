/**
 * The host clock's error bound, end to end: the agents ask `chronyc tracking` (a stand-in on PATH
 * that answers as chrony on an EC2 host does), write it into `metrics/<agent>.json`, and the report
 * and its verdict quote it. Both files go through their real producers and readers.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { feedpath, onlyRun, readJson } from './feedpath-cli';

const TRACKING = `Reference ID    : A9FEA97B (169.254.169.123)
Stratum         : 4
Ref time (UTC)  : Sun Nov 29 18:00:00 2026
System time     : 0.000012000 seconds slow of NTP time
Last offset     : -0.000001000 seconds
RMS offset      : 0.000005000 seconds
Frequency       : 12.345 ppm slow
Residual freq   : +0.001 ppm
Skew            : 0.020 ppm
Root delay      : 0.000312000 seconds
Root dispersion : 0.000194000 seconds
Update interval : 16.1 seconds
Leap status     : Normal
`;
/** |system time| + root dispersion + root delay / 2 = 0.012 + 0.194 + 0.156 ms. */
const BOUND_MS = 0.362;

describe('the clock error bound', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'feedpath-chrony-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reaches report.json and the verdict for each host when chrony reports one', async () => {
    const bin = join(dir, 'bin');
    const out = join(dir, 'out');
    writeFileSync(join(dir, 'tracking.txt'), TRACKING);
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'chronyc'),
      `#!/bin/sh\n[ "$1" = tracking ] && exec cat '${join(dir, 'tracking.txt')}'\nexit 1\n`,
    );
    chmodSync(join(bin, 'chronyc'), 0o755);

    const result = await feedpath(['run', '--duration', '7', '--out', out], {
      env: { PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
    });

    const runDir = onlyRun(out);
    const metrics = readJson(join(runDir, 'metrics', 'receiver.json'));
    expect(metrics.clock_error_bound_ms).toEqual({ start: BOUND_MS, end: BOUND_MS });
    const report = readJson(join(runDir, 'report.json'));
    expect(report.clock).toMatchObject({
      receiver: { error_bound_ms: BOUND_MS, source: 'metrics/receiver.json' },
      forwarder: { error_bound_ms: BOUND_MS, source: 'metrics/forwarder.json' },
    });
    expect(report.verdict).toContain('receiver ±0.362 ms');
    expect(report.verdict).toContain('forwarder ±0.362 ms');
    expect(result.stdout).toContain('±0.362 ms');
  }, 90_000);
});

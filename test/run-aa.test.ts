/**
 * `feedpath run` with two identical emulated paths: whatever the lab's own hops add to the backbone,
 * the verdict must not call a path faster, and the report carries the A/A control (the receiver's
 * second direct connection) beside the A/B delta.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resultsCsvName } from '../lib/samples';
import { feedpath, onlyRun, readJson } from './feedpath-cli';

describe('feedpath run with identical paths', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'feedpath-aa-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('says "no practical difference" and reports the A/A control', async () => {
    // prepare: 200 ms on both paths (the backbone's split 2 + 198 ms), no jitter. The default
    // threshold is then 1% of ~200 ms = 2 ms: the margin the lab's extra hops need on a busy machine.
    const profile = join(out, 'profile.json');
    writeFileSync(
      profile,
      JSON.stringify({
        links: {
          'exchange-receiver': { delayMs: 200, jitterMs: 0 },
          'exchange-forwarder': { delayMs: 2, jitterMs: 0 },
          'forwarder-receiver': { delayMs: 198, jitterMs: 0 },
        },
      }),
    );

    // act
    const result = await feedpath(['run', '--duration', '7', '--profile', profile, '--out', out]);

    // assert
    expect(result.stderr).not.toMatch(/feedpath: /);
    const dir = onlyRun(out);
    const report = readJson(join(dir, 'report.json'));
    const verdict = report.verdict as string;
    expect(verdict).not.toMatch(/was faster/);
    // Within the threshold (or the A/A noise): "no practical difference"; an interval spanning 0
    // is the other honest answer for identical paths.
    expect(verdict).toMatch(/^No (practical|significant) difference between the paths/);
    const practical = report.practical as { threshold_ms: number; below_threshold: boolean | null };
    expect(practical.threshold_ms).toBeGreaterThan(1.9);
    expect(practical.below_threshold).toBe(true);
    expect(existsSync(join(dir, resultsCsvName('control')))).toBe(true);
    const control = report.control as { matched: number; delta_ms: { median: number } } | null;
    expect(control?.matched).toBeGreaterThan(100);
    expect(result.stdout).toMatch(/No (practical|significant) difference/);
  }, 90_000);
});

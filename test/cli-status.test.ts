/** How a run's end is told: evidence minimum, silence watch, run status, disk-full mapping, exit codes. */
import { PathSilenceWatch } from '../cli/local/measurement';
import { assessEvidence, MIN_EVIDENCE } from '../lib/analysis/evidence';
import { ErrorCode, FeedpathError, userError } from '../lib/errors';
import { checkRunFile, EXIT_CODES, formatRunFile, statusWith } from '../lib/run-file';

describe('evidence', () => {
  it('is sufficient only with enough matched events over enough seconds', () => {
    expect(assessEvidence(MIN_EVIDENCE.events, MIN_EVIDENCE.seconds).sufficient).toBe(true);
    expect(assessEvidence(MIN_EVIDENCE.events - 1, 60)).toMatchObject({
      sufficient: false,
      reason: expect.stringMatching(/99 matched events/),
    });
    expect(assessEvidence(10_000, 1)).toMatchObject({
      sufficient: false,
      reason: expect.stringMatching(/1\.0 s of data/),
    });
    expect(assessEvidence(0, null).sufficient).toBe(false);
  });
});

describe('silence watch', () => {
  it('reports a path whose count stops while the other keeps rising, once', () => {
    const watch = new PathSilenceWatch(0, 3_000);
    const silent: string[] = [];
    for (let t = 1_000; t <= 10_000; t += 1_000) {
      const baseline = Math.min(t, 4_000) / 10; // stops moving at 4 s
      for (const s of watch.update({ baseline: { samples: baseline }, backbone: { samples: t / 10 } }, t))
        silent.push(`${s.path}@${s.since}`);
    }
    expect(silent).toEqual(['baseline@4000']);
  });

  it('says nothing when both paths stop together (the exchange went away)', () => {
    const watch = new PathSilenceWatch(0, 3_000);
    const found = [1_000, 2_000, 6_000, 9_000].flatMap((t) =>
      watch.update({ baseline: { samples: 50 }, backbone: { samples: 50 } }, t),
    );
    expect(found).toEqual([]);
  });
});

describe('run.json', () => {
  it('reads an older file (upper-case workflow status, no causes) and writes through the schema', () => {
    const old = checkRunFile({ runId: 'r1', status: 'SUCCEEDED', where: 'local', extra: 1 });
    expect(old.run).toMatchObject({ status: 'succeeded', causes: [], extra: 1 });
    expect(checkRunFile({ runId: 'r1', status: 'ABORTED' }).run?.status).toBe('interrupted');
    expect(checkRunFile({ status: 'succeeded' }).problem).toMatch(/runId/);
    expect(() => formatRunFile({ runId: 'r1', status: 'fine' as never })).toThrow();
  });

  it('is degraded by any cause unless it failed or was interrupted', () => {
    const cause = { what: 'forwarder', at: null, detail: 'forwarder killed by SIGKILL at 2.0 s' };
    expect(statusWith('succeeded', [])).toBe('succeeded');
    expect(statusWith('succeeded', [cause])).toBe('degraded');
    expect(statusWith('interrupted', [cause])).toBe('interrupted');
    expect(EXIT_CODES).toMatchObject({ succeeded: 0, failed: 1, usage: 2, degraded: 3, interrupted: 130 });
  });
});

describe('a full disk', () => {
  it('becomes one FP_DISK_FULL error, from the system or inside an agent message', () => {
    const system = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(userError(system)?.code).toBe(ErrorCode.diskFull);
    const relayed = new FeedpathError(
      ErrorCode.agentFailed,
      'receiver: ENOSPC: no space left on device, write',
    );
    expect(userError(relayed)?.code).toBe(ErrorCode.diskFull);
    expect(userError(new FeedpathError(ErrorCode.badInput, 'x'))?.code).toBe(ErrorCode.badInput);
    expect(userError(new TypeError('a bug'))).toBeNull();
  });
});

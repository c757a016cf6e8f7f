/**
 * report.json is versioned (REPORT_SCHEMA, README "report.json versions"): the history reads a
 * report of this version and one of `feedpath.report/1` (the parts /2 added absent), and refuses
 * any other.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { analyzeCommand } from '../cli/analyze';
import { historyRecordFromReport, readReport, type HistoryRecord } from '../lib/history';
import { REPORT_SCHEMA, type Report, type StoredReport } from '../lib/report';
import { toJson } from '../lib/report/json';
import { LocalFolderStore } from '../lib/store';
import { removeDir, tempDir } from './analysis-fixtures';
import { writeRunFolder } from './history-fixtures';

const NOW = () => new Date('2026-01-10T00:00:00Z');
const RUN_ID = '20260105-060000-ab12';
/** The record's fields taken from what report.json /2 added (practical, control, histograms, market). */
const ADDED_IN_2 = /^(paired_practical|practical_threshold_ms|control_noise_ms|\w+_histogram|market_\w+)$/;

/** A `/1` report: this analysis's report without what /2 added, as the analysis wrote it before. */
function asVersion1(report: Report): Record<string, unknown> {
  const {
    run_status: _runStatus,
    one_way_evidence: _oneWayEvidence,
    control: _control,
    practical: _practical,
    connections: _connections,
    first_copy: _firstCopy,
    market: _market,
    histograms: _histograms,
    lab: _lab,
    cost: _cost,
    ...parts
  } = report;
  return { ...parts, schema: 'feedpath.report/1' };
}

describe('report.json versions', () => {
  let root: string;
  let dir: string;
  let store: LocalFolderStore;

  beforeEach(async () => {
    root = await tempDir();
    dir = await writeRunFolder(root, RUN_ID, { startedAt: '2026-01-05T06:00:00Z', deltaUs: -1000 });
    await analyzeCommand(dir);
    store = new LocalFolderStore(root);
  });
  afterEach(async () => {
    await removeDir(root);
  });

  it('reads a report of this version and one of /1, whose record lacks only what /2 added', async () => {
    // prepare: the report the analysis wrote, and the same report as /1 wrote it
    const written = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as Report;
    const current = await readReport(store, RUN_ID);
    await writeFile(join(dir, 'report.json'), toJson(asVersion1(written)));

    // act
    const older = await readReport(store, RUN_ID);

    // assert
    expect(written.schema).toBe(REPORT_SCHEMA);
    expect(REPORT_SCHEMA).toBe('feedpath.report/2');
    expect(current?.schema).toBe('feedpath.report/2');
    expect(older?.schema).toBe('feedpath.report/1');
    const fromCurrent = historyRecordFromReport(current as StoredReport, { now: NOW });
    const fromOlder = historyRecordFromReport(older as StoredReport, { now: NOW });
    // What /1 had is recorded the same; what /2 added is absent (null), the judgement by
    // significance alone.
    expect(fromCurrent.paired_practical).not.toBeNull();
    expect(fromCurrent.baseline_histogram).not.toBeNull();
    const differs = (Object.keys(fromCurrent) as (keyof HistoryRecord)[]).filter(
      (key) => !isDeepStrictEqual(fromOlder[key], fromCurrent[key]),
    );
    expect(Object.keys(fromOlder)).toEqual(Object.keys(fromCurrent));
    expect(differs).toContain('paired_practical');
    expect(differs).toContain('baseline_histogram');
    for (const key of differs) {
      expect({ key, addedIn2: ADDED_IN_2.test(key) }).toEqual({ key, addedIn2: true });
      expect({ key, value: fromOlder[key] }).toEqual({ key, value: null });
    }
    expect(fromOlder.paired_significant).toBe(true);
  });

  it('refuses a report of an unknown version and a multi-receiver run’s matrix', async () => {
    const written = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as Report;
    await writeFile(join(dir, 'report.json'), toJson({ ...written, schema: 'feedpath.report/3' }));
    const unknown = await readReport(store, RUN_ID);
    await writeFile(join(dir, 'report.json'), toJson({ ...written, schema: 'feedpath.matrix/1' }));
    const matrix = await readReport(store, RUN_ID);

    expect(unknown).toBeNull();
    expect(matrix).toBeNull();
  });
});

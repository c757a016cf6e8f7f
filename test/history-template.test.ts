/**
 * cloudformation/history.yml, read the way serverless reads it (osls' own YAML loader with the
 * CloudFormation tags): the Glue table's partition projection and columns, the alarm and the
 * notification behind their parameters' Conditions, the rule on the workflow's end, and the Athena
 * queries the documentation shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENDED_STATUSES, failedHistoryRecord } from '../lib/history';
import { HISTOGRAM_BIN_OFFSET, HISTOGRAM_RELATIVE_ACCURACY, HISTOGRAM_SCHEME } from '../lib/stats';
import { EMF_DIMENSIONS, EMF_NAMESPACE, EMF_SERVICE } from '../lib/metrics-emf';
import { trinoSyntaxErrors } from './trino-sql';
import type { Json } from '../lib/json';

// osls ships no types; this is the function serverless uses for `${file(…yml)}`.
const parseServerlessFile = require('osls/lib/utils/fs/parse') as (path: string, contents: string) => unknown;

interface Resource {
  Type: string;
  Condition?: string;
  Properties: Json;
}
interface Template {
  Conditions: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, Json>;
}

const root = join(__dirname, '..');
function load(name: string): unknown {
  const file = join(root, 'cloudformation', name);
  return parseServerlessFile(file, readFileSync(file, 'utf8'));
}
const base = load('history.yml') as Template;
type Fragments = Record<'on' | 'off', Partial<Template>>;
const athena = load('history-athena.yml') as Fragments;
const alarm = load('history-alarm.yml') as Fragments;

/**
 * What serverless.yml includes for these parameters: history.yml, plus the fragment of
 * history-athena.yml and history-alarm.yml the `athena` (default on) and `alarm` (default off)
 * parameters name.
 */
function included(params: Record<string, string>): Template {
  const parts = [
    base,
    athena[(params.athena ?? 'on') as 'on' | 'off'],
    alarm[(params.alarm ?? 'off') as 'on' | 'off'],
  ];
  return {
    Conditions: Object.assign({}, ...parts.map((p) => p.Conditions ?? {})),
    Resources: Object.assign({}, ...parts.map((p) => p.Resources ?? {})),
    Outputs: Object.assign({}, ...parts.map((p) => p.Outputs ?? {})),
  };
}
/** Everything the three files can contribute. */
const template = included({ athena: 'on', alarm: 'on' });

/** Resources the file refers to that serverless.yml and the other templates define. */
const EXTERNAL = ['ResultsBucket', 'AnalyzeRole', 'FeedpathStateMachine', 'RecordExecutionLambdaFunction'];

/** Resolves `${param:name, 'default'}` as serverless does for the given `--param`s. */
function withParams<T>(value: T, params: Record<string, string>): T {
  const resolve = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(
        /\$\{param:(\w+), '?([^'}]*)'?\}/g,
        (_, name: string, fallback: string) => params[name] ?? fallback,
      );
    }
    if (Array.isArray(v)) return v.map(resolve);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    return v;
  };
  return resolve(value) as T;
}

/** Evaluates the Conditions (Fn::Equals, Fn::Not) of a resolved template. */
function conditions(resolved: Template): Record<string, boolean> {
  const evaluate = (c: unknown): boolean => {
    const node = c as Json;
    if ('Fn::Equals' in node) {
      const [a, b] = node['Fn::Equals'] as [unknown, unknown];
      return a === b;
    }
    if ('Fn::Not' in node) return !evaluate((node['Fn::Not'] as unknown[])[0]);
    throw new Error(`unexpected condition ${JSON.stringify(c)}`);
  };
  return Object.fromEntries(Object.entries(resolved.Conditions).map(([name, c]) => [name, evaluate(c)]));
}

/** The resources CloudFormation creates with these parameters. */
function created(params: Record<string, string>): string[] {
  const resolved = withParams(included(params), params);
  const on = conditions(resolved);
  return Object.entries(resolved.Resources)
    .filter(([, r]) => r.Condition === undefined || on[r.Condition] === true)
    .map(([name]) => name);
}

/** Every logical id the template refers to with Ref, Fn::GetAtt or ${…} in Fn::Sub. */
function references(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') found.add(v);
      else if (key === 'Fn::GetAtt') found.add((v as string[])[0] as string);
      else if (key === 'Fn::Sub' && typeof v === 'string')
        // `${sls:stage}` and the like are serverless variables, resolved before CloudFormation.
        for (const m of v.matchAll(/\$\{([A-Za-z0-9:]+)(\.[A-Za-z]+)?\}/g))
          if (!/^(sls|self|param|opt|env):/.test(m[1] as string)) found.add(m[1] as string);
          else references(v, found);
    }
  }
  return found;
}

describe('cloudformation/history.yml', () => {
  const resources = template.Resources;

  it('defines a Glue table over history/ with year/month/day partition projection and no crawler', () => {
    const table = resources.HistoryTable as Resource;
    const input = table.Properties.TableInput as Json;
    const storage = input.StorageDescriptor as Json;

    expect(table.Type).toBe('AWS::Glue::Table');
    expect(table.Properties.DatabaseName).toEqual({ Ref: 'HistoryDatabase' });
    expect(input.TableType).toBe('EXTERNAL_TABLE');
    expect(input.PartitionKeys).toEqual([
      { Name: 'year', Type: 'string' },
      { Name: 'month', Type: 'string' },
      { Name: 'day', Type: 'string' },
    ]);
    expect(input.Parameters).toEqual({
      classification: 'json',
      'projection.enabled': 'true',
      'projection.year.type': 'date',
      'projection.year.format': 'yyyy',
      'projection.year.range': '2024,NOW',
      'projection.year.interval': '1',
      'projection.year.interval.unit': 'YEARS',
      'projection.month.type': 'integer',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.type': 'integer',
      'projection.day.range': '1,31',
      'projection.day.digits': '2',
    });
    // The default Hive layout is the records' key layout: no storage.location.template needed.
    expect(storage.Location).toEqual({ 'Fn::Sub': 's3://${ResultsBucket}/history/' });
    expect((storage.SerdeInfo as Json).SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(Object.values(resources).map((r) => r.Type)).not.toContain('AWS::Glue::Crawler');
  });

  it("has one column per history record key, in the record's order", () => {
    const storage = ((resources.HistoryTable as Resource).Properties.TableInput as Json)
      .StorageDescriptor as Json;
    const columns = storage.Columns as { Name: string; Type: string }[];
    const keys = Object.keys(failedHistoryRecord({ runId: 'r', cause: 'c' })).filter((k) => k !== 'schema');

    expect(columns.map((c) => c.Name)).toEqual(keys);
    expect(Object.fromEntries(columns.map((c) => [c.Name, c.Type]))).toMatchObject({
      streams: 'array<string>',
      paired_median_delta_ms: 'double',
      paired_significant: 'boolean',
      baseline_lost: 'bigint',
      loss_by_stream: 'array<struct<stream:string,baseline_lost:bigint,backbone_lost:bigint>>',
      baseline_histogram: 'struct<scheme:string,bins:array<int>,counts:array<bigint>>',
      backbone_histogram: 'struct<scheme:string,bins:array<int>,counts:array<bigint>>',
      paired_delta_histogram: 'struct<scheme:string,bins:array<int>,counts:array<bigint>>',
    });
  });

  it('switches the alarm and the notification on with their parameters, both off by default', () => {
    expect(template.Conditions).toEqual({
      NotifyEnabled: { 'Fn::Not': [{ 'Fn::Equals': ["${param:notify, 'off'}", 'off'] }] },
    });
    const optional = [
      'BackboneNotWinningAlarm',
      'NotificationTopic',
      'NotificationSubscription',
      'NotificationTopicPolicy',
    ];

    const off = created({});
    expect(created({ athena: 'off' })).not.toContain('HistoryTable');
    const on = created({ alarm: 'on', notify: 'ops@example.com' });
    const alarmOnly = created({ alarm: 'on' });

    for (const name of optional) expect({ name, off: off.includes(name) }).toEqual({ name, off: false });
    expect(off).toEqual(expect.arrayContaining(['HistoryDatabase', 'HistoryTable', 'ExecutionEndRule']));
    expect(on).toEqual(expect.arrayContaining(optional));
    expect(alarmOnly).toContain('BackboneNotWinningAlarm');
    expect(alarmOnly).not.toContain('NotificationTopic');
    const subscription = withParams(resources.NotificationSubscription, { notify: 'ops@example.com' });
    expect(subscription?.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('alarms on the EMF delta of a region pair staying above 0', () => {
    const alarm = withParams(resources.BackboneNotWinningAlarm as Resource, {});

    expect(alarm.Properties).toMatchObject({
      Namespace: EMF_NAMESPACE,
      MetricName: 'PairedMedianDeltaMs',
      Dimensions: [
        { Name: 'service', Value: EMF_SERVICE },
        { Name: 'ForwarderRegion', Value: 'ap-northeast-1' },
        { Name: 'ReceiverRegion', Value: 'eu-central-1' },
      ],
      Statistic: 'Minimum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: '3',
      DatapointsToAlarm: '3',
      Period: '21600',
      AlarmActions: { 'Fn::If': ['NotifyEnabled', [{ Ref: 'NotificationTopic' }], { Ref: 'AWS::NoValue' }] },
    });
    // The alarm's dimensions are one of the sets the analyze Lambda publishes.
    const names = (alarm.Properties.Dimensions as { Name: string }[]).map((d) => d.Name);
    expect(EMF_DIMENSIONS).toContainEqual(names);
  });

  it("sends every end of the workflow's executions to recordExecution, and to SNS when notify is on", () => {
    const rule = resources.ExecutionEndRule as Resource;
    const targets = rule.Properties.Targets as Json[];

    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: [...ENDED_STATUSES], stateMachineArn: [{ Ref: 'FeedpathStateMachine' }] },
    });
    expect(targets[0]).toMatchObject({ Arn: { 'Fn::GetAtt': ['RecordExecutionLambdaFunction', 'Arn'] } });
    const [condition, sns, otherwise] = (targets[1] as { 'Fn::If': [string, Json, unknown] })['Fn::If'];
    expect([condition, sns.Arn, otherwise]).toEqual([
      'NotifyEnabled',
      { Ref: 'NotificationTopic' },
      { Ref: 'AWS::NoValue' },
    ]);
    const input = ((sns.InputTransformer as Json).InputTemplate as { 'Fn::Sub': string })['Fn::Sub'];
    // Valid JSON once EventBridge fills the placeholders with JSON values.
    const filled = input.replace(/"[^"]*"/g, (s) => s.replace(/<\w+>/g, 'x')).replace(/<\w+>/g, '"x"');
    expect(JSON.parse(filled)).toMatchObject({
      feedpath: 'run x',
      status: 'x',
      result: 'x',
      history: 's3://${ResultsBucket}/history.html',
    });
    expect(resources.RecordExecutionPermission?.Properties).toMatchObject({
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['ExecutionEndRule', 'Arn'] },
    });
  });

  it('refers only to its own resources and to those serverless.yml defines', () => {
    const known = new Set([...Object.keys(resources), ...EXTERNAL]);

    const unknown = [...references(template)].filter((id) => !id.startsWith('AWS::') && !known.has(id));

    expect(unknown).toEqual([]);
    // Every serverless parameter has a default here, so none has to be declared.
    for (const name of ['history.yml', 'history-athena.yml', 'history-alarm.yml']) {
      const text = readFileSync(join(root, 'cloudformation', name), 'utf8').replace(/^\s*#.*$/gm, '');
      expect(text.match(/\$\{param:[^}]*\}/g)?.filter((p) => !p.includes(',')) ?? []).toEqual([]);
    }
  });

  it('saves the three Athena queries that docs/history.md shows', () => {
    const docs = readFileSync(join(root, 'docs', 'history.md'), 'utf8');
    const blocks = [...docs.matchAll(/```sql\n(.*?)```/gs)].map((m) => m[1]);
    const queries = Object.values(resources).filter((r) => r.Type === 'AWS::Athena::NamedQuery');

    expect(queries).toHaveLength(3);
    for (const query of queries) {
      expect(blocks).toContain(query.Properties.QueryString);
      expect(query.Properties).toMatchObject({
        Database: { Ref: 'HistoryDatabase' },
        WorkGroup: { Ref: 'HistoryWorkGroup' },
      });
    }
  });

  it('saves queries that parse as Trino SQL, reading the histograms with lib/stats/histogram.ts constants', () => {
    const queries = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Athena::NamedQuery')
      .map((r) => ({ name: r.Properties.Name as string, sql: r.Properties.QueryString as string }));
    // The value of bin b, as the queries write it: sign(b)·(1 − α)·((1 + α)/(1 − α))^(|b| − offset).
    const alpha = HISTOGRAM_RELATIVE_ACCURACY;
    const binValue = `* ${1 - alpha}e0 * power(${1 + alpha}e0 / ${1 - alpha}e0, abs(`;

    const errors = queries.map((q) => ({ name: q.name, errors: trinoSyntaxErrors(q.sql) }));

    expect(errors).toEqual(queries.map((q) => ({ name: q.name, errors: [] })));
    // The check can fail: a broken statement is reported.
    expect(trinoSyntaxErrors('SELECT count(* FROM history')).not.toEqual([]);
    const merged = queries.filter((q) => q.sql.includes('_histogram'));
    expect(merged.map((q) => q.name)).toEqual(['feedpath weekly percentiles', 'feedpath worst hours']);
    for (const q of merged) {
      expect(q.sql).toContain(`.scheme = '${HISTOGRAM_SCHEME}'`);
      expect(q.sql).toContain(binValue);
      expect(q.sql.match(/abs\((?:lo_bin|coalesce\(hi_bin, lo_bin\))\) - (\d+)\)/g)).toEqual([
        `abs(lo_bin) - ${HISTOGRAM_BIN_OFFSET})`,
        `abs(coalesce(hi_bin, lo_bin)) - ${HISTOGRAM_BIN_OFFSET})`,
      ]);
      // No percentile of the runs' own percentiles.
      expect(q.sql).not.toMatch(/approx_percentile\((paired_median|baseline_p99|backbone_p99)/);
    }
  });
});

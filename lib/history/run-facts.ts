/**
 * What a run's input.json and run.json say about it (its id, start, label, regions, streams), read
 * field by field from either shape, for its history record.
 */
import { jsonObject, type Json } from '../json';

/** The first value that is a non-blank string. */
export function stringAt(...values: unknown[]): string | null {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v;
  return null;
}

/** The first value that reads as a time (ISO text or epoch ms), as ISO. */
export function isoAt(...values: unknown[]): string | null {
  for (const v of values) {
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const t = new Date(v).getTime();
    if (Number.isFinite(t)) return new Date(t).toISOString();
  }
  return null;
}

function streamsAt(...values: unknown[]): string[] {
  for (const v of values) {
    if (Array.isArray(v)) {
      const names = v.filter((s): s is string => typeof s === 'string' && s.trim() !== '');
      if (names.length > 0) return names;
    }
    if (typeof v === 'string' && v.trim() !== '')
      return v
        .split(/[,/]/)
        .map((s) => s.trim())
        .filter((s) => s !== '');
  }
  return [];
}

/** The number when it is finite, else null. */
export function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * What the run's input.json and run.json say about it. Both shapes are read: the AWS workflow's
 * (input: forwarderRegion, receiverRegion, label; run: startedAt, input) and the local run's
 * (run: startedAt, endedAt, regions: {forwarder, receiver}).
 */
export interface RunFacts {
  runId: string | null;
  startedAt: string | null;
  endedAt: string | null;
  label: string | null;
  mode: string | null;
  forwarderRegion: string | null;
  receiverRegion: string | null;
  forwarderAzId: string | null;
  receiverAzId: string | null;
  instanceType: string | null;
  streams: string[];
}

/** Reads the facts from an input.json and a run.json (either may be null). */
export function runFacts(input: Json | null, run: Json | null): RunFacts {
  const runInput = jsonObject(run?.input);
  const regions = jsonObject(run?.regions);
  const placement = jsonObject(run?.placement);
  const forwarder = jsonObject(placement?.forwarder);
  const receiver = jsonObject(placement?.receiver);
  return {
    runId: stringAt(run?.runId, input?.runId),
    startedAt: isoAt(run?.startedAt, input?.startedAt),
    endedAt: isoAt(run?.endedAt),
    label: stringAt(input?.label, runInput?.label, run?.label),
    mode: stringAt(input?.mode, runInput?.mode, run?.mode),
    forwarderRegion: stringAt(input?.forwarderRegion, runInput?.forwarderRegion, regions?.forwarder),
    receiverRegion: stringAt(input?.receiverRegion, runInput?.receiverRegion, regions?.receiver),
    forwarderAzId: stringAt(forwarder?.availabilityZoneId),
    receiverAzId: stringAt(receiver?.availabilityZoneId),
    // Both sites share the input's instance type; the placement says what was launched.
    instanceType: stringAt(
      receiver?.instanceType,
      forwarder?.instanceType,
      input?.instanceType,
      runInput?.instanceType,
    ),
    streams: streamsAt(input?.streams, runInput?.streams, run?.streams),
  };
}

/** The last folder name of a key prefix: `runs/2024/08/08/<id>/` → `<id>`. */
export function runIdOfPrefix(prefix: string): string | null {
  const parts = prefix.split('/').filter((p) => p !== '');
  return parts.length > 0 ? (parts[parts.length - 1] as string) : null;
}

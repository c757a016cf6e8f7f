/**
 * The availability zone of a site: one that offers the run's instance type. Not every zone of a
 * region offers every type (a new family reaches some zones first), and the region's first zone
 * is as likely as any to lack it. Zones are named by their AZ ID (e.g. `apne1-az4`), which is the
 * same physical zone in every account, unlike the account-specific names (`ap-northeast-1a`).
 */
import { createHash } from 'node:crypto';
import {
  DescribeAvailabilityZonesCommand,
  DescribeInstanceTypeOfferingsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { InvalidInputError } from './errors';
import { rethrowCloudError } from './stacks';

/** Every AZ ID of the client's region that offers `instanceType`, sorted. */
export async function zonesOffering(ec2: EC2Client, instanceType: string): Promise<string[]> {
  const zones: string[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await ec2.send(
        new DescribeInstanceTypeOfferingsCommand({
          LocationType: 'availability-zone-id',
          Filters: [{ Name: 'instance-type', Values: [instanceType] }],
          NextToken: token,
        }),
      );
    } catch (error) {
      return rethrowCloudError(error, `list the zones offering ${instanceType}`);
    }
    for (const offering of page.InstanceTypeOfferings ?? []) {
      if (offering.Location !== undefined) zones.push(offering.Location);
    }
    token = page.NextToken;
  } while (token !== undefined);
  return zones.sort();
}

/** Every AZ ID of the client's region (available or not), sorted. */
export async function regionZoneIds(ec2: EC2Client): Promise<string[]> {
  let zones;
  try {
    zones = await ec2.send(new DescribeAvailabilityZonesCommand({ AllAvailabilityZones: true }));
  } catch (error) {
    return rethrowCloudError(error, 'list the availability zones');
  }
  return (zones.AvailabilityZones ?? []).flatMap((z) => (z.ZoneId === undefined ? [] : [z.ZoneId])).sort();
}

/**
 * This account's name for a zone (`eu-central-1b` for `euc1-az2` here, another letter elsewhere);
 * null when EC2 does not say. Only informative, so a failed look-up costs the run nothing.
 */
export async function zoneName(ec2: EC2Client, zoneId: string): Promise<string | null> {
  try {
    const { AvailabilityZones } = await ec2.send(new DescribeAvailabilityZonesCommand({ ZoneIds: [zoneId] }));
    return AvailabilityZones?.find((z) => z.ZoneId === zoneId)?.ZoneName ?? null;
  } catch {
    return null;
  }
}

/**
 * One of a pinned list for this run: drawn from the run id and the site's role, so a retried Task
 * takes the same zone, and a schedule's runs spread over the list at random rather than in a
 * rotation that could line up with the schedule's period (a 6-hour schedule over 3 zones in turn
 * would put each zone at the same hours of the day).
 */
export function pickZone(pinned: readonly string[], runId: string, role: string): string {
  const digest = createHash('sha256').update(`${runId}/${role}`).digest();
  return pinned[digest.readUInt32BE(0) % pinned.length] as string;
}

export interface ZoneRequest {
  region: string;
  instanceType: string;
  /** The input field that pinned the zone (`receiverAzId`), for the error message. */
  field: string;
  /** AZ IDs the input pinned (every one is checked); absent or empty = the automatic choice. */
  pinned?: readonly string[] | undefined;
  /** Picks one of several pinned zones. */
  runId: string;
  role: string;
}

/**
 * The site's zone by AZ ID. Pinned: each pinned ID must be a zone of the region that offers the
 * instance type (all of them, so a bad entry fails every run of a schedule, not one in three), then
 * one is picked for the run. Otherwise the first AZ ID in sorted order that offers the type, so a
 * run is repeatable. Throws InvalidInput naming the zones that would do.
 */
export async function chooseZone(ec2: EC2Client, request: ZoneRequest): Promise<string> {
  const { region, instanceType, field, pinned = [] } = request;
  const offering = await zonesOffering(ec2, instanceType);
  if (offering.length === 0) {
    throw new InvalidInputError(
      `instanceType ${instanceType} is not offered in any availability zone of ${region}: choose another type`,
    );
  }
  if (pinned.length === 0) return offering[0] as string;
  const missing = pinned.filter((id) => !offering.includes(id));
  if (missing.length > 0) {
    const inRegion = await regionZoneIds(ec2);
    const problems = missing.map((id) =>
      inRegion.includes(id)
        ? `${id} does not offer ${instanceType}`
        : `${id} is not an availability zone of ${region}`,
    );
    throw new InvalidInputError(
      `invalid input: ${field}: ${problems.join('; ')}; the zones of ${region} that offer ${instanceType}: ${offering.join(', ')}`,
    );
  }
  return pickZone(pinned, request.runId, request.role);
}

/**
 * The availability zone of a site: one that offers the run's instance type. Not every zone of a
 * region offers every type (a new family reaches some zones first), and the region's first zone
 * is as likely as any to lack it. Zones are named by their AZ ID (e.g. `apne1-az4`), which is the
 * same physical zone in every account, unlike the account-specific names (`ap-northeast-1a`).
 */
import { DescribeInstanceTypeOfferingsCommand, type EC2Client } from '@aws-sdk/client-ec2';
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

/**
 * The site's zone: the first AZ ID (in sorted order, so a run is repeatable) that offers the
 * instance type. Throws InvalidInput when no zone of the region offers it.
 */
export async function chooseZone(ec2: EC2Client, region: string, instanceType: string): Promise<string> {
  const [zone] = await zonesOffering(ec2, instanceType);
  if (zone === undefined) {
    throw new InvalidInputError(
      `instanceType ${instanceType} is not offered in any availability zone of ${region}: choose another type`,
    );
  }
  return zone;
}

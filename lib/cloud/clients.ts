/**
 * One SDK client per service and region, created on first use and kept for the life of the Lambda
 * container. Step Functions' own SDK integrations only reach their region; the run's sites are in
 * others, so the Lambdas carry a client per region.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';

/** A client for a region, memoized. */
export type RegionalClient<C> = (region: string) => C;

/** Memoizes `create` per region. */
export function regionalClient<C>(create: (region: string) => C): RegionalClient<C> {
  const clients = new Map<string, C>();
  return (region) => {
    let client = clients.get(region);
    if (client === undefined) {
      client = create(region);
      clients.set(region, client);
    }
    return client;
  };
}

/** The clients the workflow's cores take. */
export interface CloudClients {
  cloudFormation: RegionalClient<CloudFormationClient>;
  ec2: RegionalClient<EC2Client>;
  ssm: RegionalClient<SSMClient>;
  s3: RegionalClient<S3Client>;
  sfn: RegionalClient<SFNClient>;
}

/** The default clients: the SDK's credential chain, standard retry mode (throttling backs off). */
export function defaultCloudClients(): CloudClients {
  const common = { retryMode: 'standard', maxAttempts: 5 } as const;
  return {
    cloudFormation: regionalClient((region) => new CloudFormationClient({ ...common, region })),
    ec2: regionalClient((region) => new EC2Client({ ...common, region })),
    ssm: regionalClient((region) => new SSMClient({ ...common, region })),
    s3: regionalClient((region) => new S3Client({ ...common, region })),
    sfn: regionalClient((region) => new SFNClient({ ...common, region })),
  };
}

/** The deployment's settings, read once from the Lambda environment (serverless.yml sets them). */
import { z } from 'zod';
import { describeIssues } from '../zod-issues';
import { STAGE_RE, type Deployment } from './run';

const envSchema = z.object({
  FEEDPATH_STAGE: z.string().regex(STAGE_RE),
  FEEDPATH_BUCKET: z.string().min(1),
  /** The service's own region: where the bucket is. Lambda sets it. */
  AWS_REGION: z.string().min(1),
  /** Regions runs may use, comma-separated; the sweeper looks for leftovers in each. */
  FEEDPATH_REGIONS: z.string().min(1),
  /** The role CloudFormation assumes to create and delete the run stacks. */
  FEEDPATH_STACK_ROLE_ARN: z.string().startsWith('arn:'),
  /** The permissions boundary every run's instance role must carry (cloudformation/iam.yml). */
  FEEDPATH_INSTANCE_BOUNDARY_ARN: z.string().startsWith('arn:'),
});

export interface CloudConfig extends Deployment {
  regions: string[];
  stackRoleArn: string;
  instanceBoundaryArn: string;
}

/** Parses the environment, naming a missing or bad variable (a deployment bug, not user input). */
export function cloudConfigFromEnv(env: Record<string, string | undefined> = process.env): CloudConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) throw new Error(`feedpath Lambda environment: ${describeIssues(result.error)}`);
  const e = result.data;
  return {
    stage: e.FEEDPATH_STAGE,
    bucket: e.FEEDPATH_BUCKET,
    bucketRegion: e.AWS_REGION,
    regions: e.FEEDPATH_REGIONS.split(',')
      .map((r) => r.trim())
      .filter((r) => r !== ''),
    stackRoleArn: e.FEEDPATH_STACK_ROLE_ARN,
    instanceBoundaryArn: e.FEEDPATH_INSTANCE_BOUNDARY_ARN,
  };
}

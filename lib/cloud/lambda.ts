/**
 * What the Lambda handlers in functions/ share: the deployment's settings and the SDK clients,
 * created once per container, and the middleware that validates a Task's event at the edge.
 */
import type { MiddlewareObj } from '@middy/core';
import { join } from 'node:path';
import type { z } from 'zod';
import { describeIssues } from '../zod-issues';
import { S3Store } from '../store';
import { defaultCloudClients, type CloudClients } from './clients';
import { cloudConfigFromEnv, type CloudConfig } from './config';
import { WorkflowError, WorkflowErrorName } from './errors';

export interface LambdaCloud {
  config: CloudConfig;
  clients: CloudClients;
  /** The results bucket as a results store. */
  store: S3Store;
  /** Where the agent bundles are inside the prepare Lambda's package (serverless.yml `package.patterns`). */
  agentsDir: string;
}

let cloud: LambdaCloud | undefined;

/** The container's settings and clients, created on first use. */
export function lambdaCloud(env: Record<string, string | undefined> = process.env): LambdaCloud {
  if (cloud === undefined) {
    const config = cloudConfigFromEnv(env);
    const clients = defaultCloudClients();
    cloud = {
      config,
      clients,
      store: new S3Store({ client: clients.s3(config.bucketRegion), bucket: config.bucket }),
      agentsDir: join(env.LAMBDA_TASK_ROOT ?? process.cwd(), 'dist', 'agents'),
    };
  }
  return cloud;
}

/** Forgets the container's settings (tests that change the environment). */
export function resetLambdaCloud(): void {
  cloud = undefined;
}

/**
 * Validates (and normalizes) the event with a zod schema. A mismatch is a wiring bug between the
 * ASL and the code, reported as `InvalidTaskInput` naming the field.
 */
export function parseEvent<S extends z.ZodType>(schema: S): MiddlewareObj<z.output<S>> {
  return {
    name: 'parseEvent',
    before: (request) => {
      const result = schema.safeParse(request.event);
      if (!result.success) {
        throw new WorkflowError(
          WorkflowErrorName.taskInput,
          `invalid Task input: ${describeIssues(result.error)}`,
        );
      }
      request.event = result.data;
    },
  };
}

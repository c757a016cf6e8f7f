/** Link profiles (`--profile`): the delays the link emulators add, per link and direction. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCode, FeedpathError } from './errors';

export const LINK_NAMES = ['exchange-receiver', 'exchange-forwarder', 'forwarder-receiver'] as const;
export type LinkName = (typeof LINK_NAMES)[number];

export const linkSpecSchema = z
  .object({
    /** One-way base delay added to every chunk, ms. */
    delayMs: z.number().min(0).max(60_000),
    /** Standard deviation of a non-negative random extra delay, ms (exponentially distributed). */
    jitterMs: z.number().min(0).max(60_000).default(0),
  })
  .strict();
export type LinkSpec = z.infer<typeof linkSpecSchema>;

export const profileSchema = z
  .object({
    links: z
      .object({
        'exchange-receiver': linkSpecSchema.optional(),
        'exchange-forwarder': linkSpecSchema.optional(),
        'forwarder-receiver': linkSpecSchema.optional(),
      })
      .strict(),
  })
  .strict();
export type Profile = z.infer<typeof profileSchema>;

/**
 * Tokyo ↔ Frankfurt: ≈227 ms RTT between the regions, Binance in AWS Tokyo. The public internet
 * path is a little slower and far more jittery than the inter-region backbone.
 */
export const DEFAULT_PROFILE: Profile = {
  links: {
    'exchange-receiver': { delayMs: 114, jitterMs: 4 },
    'exchange-forwarder': { delayMs: 2, jitterMs: 0.3 },
    'forwarder-receiver': { delayMs: 113, jitterMs: 0.5 },
  },
};

/** The link spec for a name, no delay where the profile leaves it out. */
export function linkSpec(profile: Profile, name: LinkName): LinkSpec {
  return profile.links[name] ?? { delayMs: 0, jitterMs: 0 };
}

/** Formats zod issues as `field: problem; …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Validates a parsed profile, naming the bad field. */
export function parseProfile(value: unknown, source = 'profile'): Profile {
  const result = profileSchema.safeParse(value);
  if (!result.success) {
    throw new FeedpathError(ErrorCode.badProfile, `${source}: ${describeIssues(result.error)}`);
  }
  return result.data;
}

/** Reads and validates a profile file. */
export async function loadProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FeedpathError(ErrorCode.badProfile, `cannot read profile ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FeedpathError(
      ErrorCode.badProfile,
      `profile ${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  return parseProfile(value, `profile ${path}`);
}

/** Link profiles (`--profile`): the delays the link emulators add, per link and direction. */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCode, FeedpathError } from './errors';
import { describeIssues } from './zod-issues';

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

/** The links of one receiver: its own internet path and the forwarder's relay to it. */
export const RECEIVER_LINK_NAMES = ['exchange-receiver', 'forwarder-receiver'] as const;
export type ReceiverLinkName = (typeof RECEIVER_LINK_NAMES)[number];

/** The most receivers a local run starts (each is three processes: receiver and two links). */
export const MAX_RECEIVERS = 8;

/** A receiver's name: a lowercase word (a folder name under `receivers/`, and a label in reports). */
export const receiverNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a receiver name is a lowercase word (a-z, 0-9, inner -)')
  .max(32);

const receiverProfileSchema = z
  .object({
    links: z
      .object({
        'exchange-receiver': linkSpecSchema.optional(),
        'forwarder-receiver': linkSpecSchema.optional(),
      })
      .strict(),
  })
  .strict();

/**
 * One receiver: `links` holds all three links. Several receivers: `links` holds the shared
 * exchange-forwarder link and `receivers.<name>.links` each receiver's own two links.
 */
export const profileSchema = z
  .object({
    links: z
      .object({
        'exchange-receiver': linkSpecSchema.optional(),
        'exchange-forwarder': linkSpecSchema.optional(),
        'forwarder-receiver': linkSpecSchema.optional(),
      })
      .strict(),
    receivers: z
      .record(z.string(), receiverProfileSchema)
      .refine((r) => Object.keys(r).length >= 1, 'at least one receiver')
      .refine((r) => Object.keys(r).length <= MAX_RECEIVERS, `at most ${MAX_RECEIVERS} receivers`)
      .optional(),
  })
  .strict()
  .superRefine((profile, ctx) => {
    if (profile.receivers === undefined) return;
    // Checked here rather than as the record's key schema, whose error does not say what is wrong.
    for (const name of Object.keys(profile.receivers)) {
      const checked = receiverNameSchema.safeParse(name);
      if (!checked.success)
        ctx.addIssue({
          code: 'custom',
          path: ['receivers', name],
          message: checked.error.issues[0]?.message ?? 'not a receiver name',
        });
    }
    // Two homes for one link would leave a reader guessing which one a run used.
    for (const link of RECEIVER_LINK_NAMES) {
      if (profile.links[link] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['links', link],
          message: `with a receivers section, ${link} belongs in receivers.<name>.links`,
        });
    }
  });
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

/**
 * Three receivers of the exchange in Tokyo: Frankfurt, London and Virginia (`--receivers` without a
 * profile). One-way ≈ half the regions' round trip (README "Link profiles" gives the sources):
 * Frankfurt as DEFAULT_PROFILE (≈227 ms), London ≈244 ms, Virginia ≈145 ms. As in the single
 * profile, each receiver's internet path is 1 ms shorter than the backbone leg's but far more
 * jittery (4 ms against 0.5 ms); the exchange-forwarder link (the forwarder in Tokyo) is shared.
 */
export const DEFAULT_RECEIVERS_PROFILE = receiversProfile({
  exchangeForwarder: { delayMs: 2, jitterMs: 0.3 },
  jitterMs: { 'exchange-receiver': 4, 'forwarder-receiver': 0.5 },
  delayMs: {
    frankfurt: { 'exchange-receiver': 114, 'forwarder-receiver': 113 },
    london: { 'exchange-receiver': 122, 'forwarder-receiver': 121 },
    virginia: { 'exchange-receiver': 73, 'forwarder-receiver': 72 },
  },
});

/**
 * A validated profile of several receivers (the `receivers` form): the shared exchange-forwarder
 * link, and each receiver's own two links with its delays and the jitter all receivers share.
 */
export function receiversProfile(links: {
  exchangeForwarder: LinkSpec;
  /** The jitter of every receiver's link of that name, ms. */
  jitterMs: Record<ReceiverLinkName, number>;
  /** Per receiver name (in the order receivers are chosen), its links' one-way delays, ms. */
  delayMs: Record<string, Record<ReceiverLinkName, number>>;
}): Profile {
  const receivers = Object.entries(links.delayMs).map(([name, delays]) => [
    name,
    {
      links: Object.fromEntries(
        RECEIVER_LINK_NAMES.map((link) => [link, { delayMs: delays[link], jitterMs: links.jitterMs[link] }]),
      ),
    },
  ]);
  return parseProfile({
    links: { 'exchange-forwarder': links.exchangeForwarder },
    receivers: Object.fromEntries(receivers),
  });
}

/** The link spec for a name, no delay where the profile leaves it out (the single-receiver form). */
export function linkSpec(profile: Profile, name: LinkName): LinkSpec {
  return profile.links[name] ?? { delayMs: 0, jitterMs: 0 };
}

/**
 * A receiver's link spec: from its `receivers.<name>` section when the profile has one, else the
 * profile's own links (the single-receiver form gives every receiver the same links).
 */
export function receiverLinkSpec(profile: Profile, receiver: string, name: LinkName): LinkSpec {
  if (name === 'exchange-forwarder' || profile.receivers === undefined) return linkSpec(profile, name);
  return profile.receivers[receiver]?.links[name] ?? { delayMs: 0, jitterMs: 0 };
}

/** Every link spec the profile holds (for the longest time a message can be in flight). */
export function allLinkSpecs(profile: Profile): LinkSpec[] {
  const specs = Object.values(profile.links);
  for (const receiver of Object.values(profile.receivers ?? {})) specs.push(...Object.values(receiver.links));
  return specs.filter((spec): spec is LinkSpec => spec !== undefined);
}

/**
 * The receivers `--receivers <N | name,name,…>` asks for. Names come from the profile's receivers
 * section (the first N, or the names given, each of which must be there); a profile without that
 * section gives every receiver its links, named `r1…rN` or as given. No profile (and no `--exchange`)
 * means DEFAULT_RECEIVERS_PROFILE, whose caller passes it here.
 */
export function chooseReceivers(request: string, profile: Profile): string[] {
  const known = profile.receivers === undefined ? undefined : Object.keys(profile.receivers);
  const text = request.trim();
  if (/^\d+$/.test(text)) {
    const count = Number(text);
    if (count < 1 || count > MAX_RECEIVERS)
      throw new FeedpathError(
        ErrorCode.badInput,
        `--receivers must be 1 to ${MAX_RECEIVERS} (or receiver names), not ${count}`,
      );
    if (known === undefined) return Array.from({ length: count }, (_, i) => `r${i + 1}`);
    if (count > known.length)
      throw new FeedpathError(
        ErrorCode.badInput,
        `--receivers ${count}: the profile has ${known.length} receivers (${known.join(', ')}); add more to its receivers section`,
      );
    return known.slice(0, count);
  }
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    const checked = receiverNameSchema.safeParse(name);
    if (!checked.success)
      throw new FeedpathError(
        ErrorCode.badInput,
        `--receivers: "${name}" is not a receiver name (${checked.error.issues[0]?.message ?? 'invalid'})`,
      );
    if (known !== undefined && !known.includes(name))
      throw new FeedpathError(
        ErrorCode.badInput,
        `--receivers: no receiver "${name}" in the profile (it has ${known.join(', ')})`,
      );
  }
  if (new Set(names).size !== names.length)
    throw new FeedpathError(ErrorCode.badInput, `--receivers names a receiver twice: ${text}`);
  if (names.length > MAX_RECEIVERS)
    throw new FeedpathError(
      ErrorCode.badInput,
      `--receivers: at most ${MAX_RECEIVERS} receivers, not ${names.length}`,
    );
  return names;
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
export async function loadProfile(file: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new FeedpathError(ErrorCode.badProfile, `cannot read profile ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FeedpathError(
      ErrorCode.badProfile,
      `profile ${file} is not valid JSON: ${(error as Error).message}`,
    );
  }
  return parseProfile(value, `profile ${file}`);
}

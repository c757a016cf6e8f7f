/** Link profiles: the single-receiver form, the receivers section, and `--receivers`' choice. */
import { parseLocalRunOptions } from '../lib/experiment';
import {
  chooseReceivers,
  DEFAULT_PROFILE,
  DEFAULT_RECEIVERS_PROFILE,
  MAX_RECEIVERS,
  parseProfile,
  receiverLinkSpec,
  type Profile,
} from '../lib/profile';

const spec = (delayMs: number) => ({ delayMs, jitterMs: 0 });

/** A profile with a receivers section, through the parser the run uses. */
function multi(names: string[]): Profile {
  return parseProfile({
    links: { 'exchange-forwarder': spec(2) },
    receivers: Object.fromEntries(
      names.map((name, i) => [
        name,
        { links: { 'exchange-receiver': spec(10 + i), 'forwarder-receiver': spec(20 + i) } },
      ]),
    ),
  });
}

/** The FP_ code and message of what `fn` throws. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`;
  }
  return 'no error';
}

describe('link profile', () => {
  it('reads the single-receiver form as before, every receiver getting its links', () => {
    const profile = parseProfile(DEFAULT_PROFILE);

    expect(profile).toEqual(DEFAULT_PROFILE);
    expect(receiverLinkSpec(profile, 'r2', 'exchange-receiver')).toEqual({ delayMs: 114, jitterMs: 4 });
    expect(receiverLinkSpec(profile, 'r2', 'forwarder-receiver')).toEqual({ delayMs: 113, jitterMs: 0.5 });
  });

  it("gives each receiver of a receivers section its own links and all the forwarder's", () => {
    const profile = multi(['frankfurt', 'london']);

    expect(receiverLinkSpec(profile, 'london', 'exchange-receiver').delayMs).toBe(11);
    expect(receiverLinkSpec(profile, 'london', 'forwarder-receiver').delayMs).toBe(21);
    expect(receiverLinkSpec(profile, 'frankfurt', 'exchange-forwarder').delayMs).toBe(2);
    expect(receiverLinkSpec(profile, 'london', 'exchange-forwarder').delayMs).toBe(2);
  });

  it('ships a default multi-receiver profile that passes its own schema', () => {
    const profile = parseProfile(DEFAULT_RECEIVERS_PROFILE);

    expect(Object.keys(profile.receivers ?? {})).toEqual(['frankfurt', 'london', 'virginia']);
    // The internet path is more jittery than the backbone's leg for every receiver.
    for (const name of Object.keys(profile.receivers ?? {})) {
      const internet = receiverLinkSpec(profile, name, 'exchange-receiver');
      const backbone = receiverLinkSpec(profile, name, 'forwarder-receiver');
      expect(internet.jitterMs).toBeGreaterThan(backbone.jitterMs);
    }
  });

  it("rejects a receiver's link left at the top beside a receivers section", () => {
    const value = { ...multi(['a']), links: { 'exchange-receiver': spec(5) } };

    expect(failure(() => parseProfile(value))).toMatch(
      /FP_BAD_PROFILE .*links\.exchange-receiver: with a receivers section/,
    );
  });

  it('names a bad receiver name, an unknown link and too many receivers', () => {
    const links = { 'exchange-receiver': spec(1) };

    expect(failure(() => parseProfile({ links: {}, receivers: { Frankfurt: { links } } }))).toMatch(
      /FP_BAD_PROFILE .*receivers.*lowercase word/,
    );
    expect(
      failure(() =>
        parseProfile({ links: {}, receivers: { a: { links: { 'exchange-forwarder': spec(1) } } } }),
      ),
    ).toMatch(/FP_BAD_PROFILE .*receivers\.a\.links/);
    const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`r${i}`, { links }]));
    expect(failure(() => parseProfile({ links: {}, receivers: nine }))).toMatch(/at most 8 receivers/);
    expect(failure(() => parseProfile({ links: {}, receivers: {} }))).toMatch(/at least one receiver/);
  });
});

describe('--receivers', () => {
  it("takes the first N of the profile's receivers, or r1…rN without a receivers section", () => {
    expect(chooseReceivers('2', DEFAULT_RECEIVERS_PROFILE)).toEqual(['frankfurt', 'london']);
    expect(chooseReceivers('3', DEFAULT_PROFILE)).toEqual(['r1', 'r2', 'r3']);
  });

  it('takes names from the profile, or any names without a receivers section', () => {
    expect(chooseReceivers('virginia,frankfurt', DEFAULT_RECEIVERS_PROFILE)).toEqual([
      'virginia',
      'frankfurt',
    ]);
    expect(chooseReceivers('tokyo, osaka', DEFAULT_PROFILE)).toEqual(['tokyo', 'osaka']);
  });

  it('refuses 0, more than the cap, more than the profile has, unknown and repeated names', () => {
    expect(failure(() => chooseReceivers('0', DEFAULT_PROFILE))).toMatch(/FP_BAD_INPUT .*1 to 8.*not 0/);
    expect(failure(() => chooseReceivers(String(MAX_RECEIVERS + 1), DEFAULT_PROFILE))).toMatch(/not 9/);
    expect(failure(() => chooseReceivers('4', DEFAULT_RECEIVERS_PROFILE))).toMatch(
      /the profile has 3 receivers \(frankfurt, london, virginia\)/,
    );
    expect(failure(() => chooseReceivers('paris', DEFAULT_RECEIVERS_PROFILE))).toMatch(
      /no receiver "paris" in the profile \(it has frankfurt, london, virginia\)/,
    );
    expect(failure(() => chooseReceivers('a,a', DEFAULT_PROFILE))).toMatch(/names a receiver twice/);
    expect(failure(() => chooseReceivers('New York', DEFAULT_PROFILE))).toMatch(
      /"New York" is not a receiver name/,
    );
  });

  it("rejects run options whose receivers are not in the profile's section", () => {
    const options = { profile: multi(['a', 'b']), receivers: ['a', 'c'] };

    expect(failure(() => parseLocalRunOptions(options))).toMatch(/FP_BAD_INPUT receivers: every receiver/);
    expect(parseLocalRunOptions({ ...options, receivers: ['b'] }).receivers).toEqual(['b']);
  });
});

/** The `feedpath` command. */
import '../lib/shims';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseStreamList } from '../lib/binance';
import { ErrorCode, FeedpathError, userError } from '../lib/errors';
import { DEFAULT_MIN_DIFFERENCE_MS, DEFAULT_MIN_DIFFERENCE_SHARE } from '../lib/analysis/practical';
import { MODES } from '../lib/experiment';
import { projectVersion } from '../lib/project-files';
import { MAX_RECEIVERS } from '../lib/profile';
import { EXIT_CODES } from '../lib/run-file';
import { exchangeUrl } from './usage';

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${name} must be a positive number, not "${value}"`);
    return n;
  };
}

function nonNegativeNumber(name: string, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max)
      throw new InvalidArgumentError(
        `${name} must be a number from 0${max === Infinity ? '' : ` to ${max}`}, not "${value}"`,
      );
    return n;
  };
}

/** The practical-significance options of `run`, `analyze` and `start` (lib/analysis/practical.ts). */
const minDifferenceMs = (): Option =>
  new Option(
    '--min-difference-ms <ms>',
    `a difference smaller than this is "no practical difference" (default ${DEFAULT_MIN_DIFFERENCE_MS})`,
  ).argParser(nonNegativeNumber('--min-difference-ms'));
const minDifferenceShare = (): Option =>
  new Option(
    '--min-difference-share <x>',
    `… or smaller than this share of the baseline's median latency, whichever is larger (default ${DEFAULT_MIN_DIFFERENCE_SHARE})`,
  ).argParser(nonNegativeNumber('--min-difference-share', 1));

function streamList(value: string): string[] {
  try {
    return parseStreamList(value).map((s) => s.name);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** What a command leaves for the process's exit code (a run that ended degraded still prints its report). */
export interface CommandExit {
  code: number;
}

export function buildProgram(exit: CommandExit = { code: 0 }): Command {
  const program = new Command('feedpath')
    .description(
      'Which network path delivers exchange market data to your servers fastest, and how sure are we?',
    )
    .version(projectVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('run')
    .description(
      'run the experiment on this machine: exchange simulator, link emulators, forwarder and receiver, then the report',
    )
    .option('--duration <seconds>', 'how long to measure', positiveNumber('--duration'), 30)
    .addOption(
      new Option('--streams <list>', 'Binance streams, comma-separated')
        .argParser(streamList)
        .default(['btcusdt@trade'], 'btcusdt@trade'),
    )
    .addOption(new Option('--mode <mode>', 'paths to measure').choices(MODES).default('paired'))
    .option(
      '--profile <file.json>',
      'link delays (default: Tokyo↔Frankfurt with the simulator, none with --exchange)',
    )
    .option('--out <dir>', 'results folder (a run writes <dir>/<runId>/)', 'results')
    .option(
      '--receivers <N|names>',
      `several receivers, one forwarder relaying to all: a count (1…${MAX_RECEIVERS}) or names from the profile (default profile: frankfurt, london, virginia)`,
    )
    .option(
      '--exchange <ws-url>',
      'an external exchange base URL instead of the simulator, e.g. wss://stream.binance.com:9443',
      exchangeUrl('--exchange'),
    )
    .option(
      '--replay <capture>',
      'replay a capture (text or gzip, `<ns> <json>` per line, a file or s3://bucket/key) through the simulator',
    )
    .option('--speed <x>', 'replay speed (1 = recorded pace)', positiveNumber('--speed'), 1)
    .option('--label <text>', 'a label kept with the run')
    .option('--seed <n>', 'seed for the simulator and link jitter', (v) => Number.parseInt(v, 10), 1)
    .option(
      '--no-control',
      'no A/A control (a second direct exchange connection, recorded as control-results.csv)',
    )
    .option(
      '--record',
      "record the receiver's direct exchange connection as <run>/capture/baseline.jsonl.gz (for --replay)",
    )
    .option(
      '--no-hop-compensation',
      "link emulators add their whole delay on top of the lab's loopback hops (shows the lab's raw overhead)",
    )
    .addOption(minDifferenceMs())
    .addOption(minDifferenceShare())
    .action(async (raw: Record<string, unknown>) => {
      const { runCommand } = await import('./run-command');
      exit.code = await runCommand(raw);
    });

  program
    .command('analyze')
    .description('(re)compute the summaries and the report from the raw CSVs in a folder')
    .argument('<dir>', 'a run folder with baseline-results.csv and/or backbone-results.csv')
    .option('--stream-kind <kind>', 'for CSVs without a stream column: trade, aggTrade, depth or bookTicker')
    .addOption(minDifferenceMs())
    .addOption(minDifferenceShare())
    .action(
      async (
        dir: string,
        raw: { streamKind?: string; minDifferenceMs?: number; minDifferenceShare?: number },
      ) => {
        const { analyzeFolder } = await import('./analyze');
        await analyzeFolder(dir, raw);
      },
    );

  const deployment = (command: Command): Command =>
    command
      .option('--stage <stage>', 'the deployed serverless stage', 'dev')
      .option('--region <region>', "the service's region (default: AWS_REGION, else eu-central-1)")
      .option('--state-machine-arn <arn>', 'skip the stack lookup: the state machine')
      .option('--bucket <name>', 'skip the stack lookup: the results bucket');

  deployment(
    program
      .command('start')
      .description('start the deployed workflow on AWS, follow it, then download and print the report'),
  )
    .option('--duration <seconds>', 'how long to measure (10 … 86400)', positiveNumber('--duration'))
    .option('--streams <list>', 'Binance streams, comma-separated (default btcusdt@trade)')
    .addOption(new Option('--mode <mode>', 'paths to measure (default paired)').choices(MODES))
    .option('--label <text>', 'a label kept with the run')
    .option('--forwarder-region <region>', 'where the forwarder runs (default ap-northeast-1)')
    .option('--receiver-region <region>', 'where the receiver runs (default eu-central-1)')
    .option(
      '--receiver-regions <list>',
      'several receivers, one per region, comma-separated (up to 5; one forwarder relays to all)',
    )
    .addOption(
      new Option('--region-failure <mode>', 'a receiver region that fails: fail the run, or go on without it')
        .choices(['fail', 'continue'])
        .default(undefined),
    )
    .option('--instance-type <type>', 'EC2 instance type of both sites (default c7i.large)')
    .option('--forwarder-az-id <ids>', "the forwarder's zone by AZ ID, e.g. apne1-az4 (a list: one per run)")
    .option('--receiver-az-id <ids>', "the receiver's zone by AZ ID, e.g. euc1-az2 (a list: one per run)")
    .option('--exchange <ws-url>', 'the exchange base URL (default wss://stream.binance.com:9443)')
    .option('--no-control', "no A/A control (the receiver's second direct exchange connection)")
    .option(
      '--no-record',
      "no capture of the receiver's direct exchange connection (capture/baseline.jsonl.gz)",
    )
    .addOption(minDifferenceMs())
    .addOption(minDifferenceShare())
    .option('--name <name>', 'the execution name')
    .option('--out <dir>', 'where the report files go (default results/<runId>)')
    .option(
      '--poll-seconds <s>',
      'seconds between two looks at the execution',
      positiveNumber('--poll-seconds'),
    )
    .action(async (raw: Record<string, unknown>) => {
      const { startCommand } = await import('./aws');
      const result = await startCommand(raw);
      if (result.status !== 'SUCCEEDED') {
        throw new FeedpathError(
          ErrorCode.agentFailed,
          `the execution ended ${result.status}${result.error ? `: ${result.error}` : ''}${result.cause ? ` (${result.cause})` : ''}`,
        );
      }
    });

  deployment(program.command('reports').description('list the runs in the results bucket, or fetch one'))
    .option('--run <runId>', "fetch this run's report folder")
    .option('--out <dir>', 'where a fetched run goes (default results/<runId>)')
    .option('--limit <n>', 'how many runs to list, newest first', positiveNumber('--limit'), 20)
    .option('--all', 'also fetch the raw CSVs')
    .action(async (raw: Record<string, unknown>) => {
      const { reportsCommand } = await import('./aws');
      await reportsCommand(raw);
    });

  program
    .command('history')
    .description('the trend report over many runs: history.html, history.json and history.jsonl')
    .argument('<dir-or-s3-uri>', 'a results folder (e.g. results) or s3://bucket[/prefix]')
    .option('--no-backfill', 'do not add runs that have a report.json but no history record')
    .option('--region <region>', 'S3 region (default AWS_REGION, else eu-central-1)')
    .action(async (target: string, raw: { backfill: boolean; region?: string }) => {
      const { historyCommand } = await import('./history');
      await historyCommand(target, { backfill: raw.backfill, region: raw.region, print: true });
    });

  return program;
}

/** Runs the command; user errors print one clear line and exit non-zero, without a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  const exit: CommandExit = { code: 0 };
  const program = buildProgram(exit);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODES.usage;
    const known = userError(error);
    if (known !== null) {
      process.stderr.write(`feedpath: ${known.message} [${known.code}]\n`);
      return known.code === ErrorCode.badInput || known.code === ErrorCode.badProfile
        ? EXIT_CODES.usage
        : EXIT_CODES.failed;
    }
    process.stderr.write(
      `feedpath: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT_CODES.failed;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

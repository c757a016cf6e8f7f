/**
 * The receiver's direct side: its own connections to the exchange — the baseline, and beside it
 * the A/A control (a second connection to the same URL with the same options, recorded as
 * `control-results.csv`). The relay side is ./relay-server.ts.
 */
import type { WallClock } from '../../lib/clock';
import type { CaptureWriter } from '../../lib/capture-writer';
import { FeedpathError } from '../../lib/errors';
import { feedOptions } from '../common/config';
import { ConnectionLog } from '../common/connection-log';
import { ExchangeFeed, type FeedEvents, type MessageHandler } from '../common/feed';
import type { ReceiverConfig } from './config';
import type { PathRecorder } from './recorder';

export interface DirectOptions {
  config: ReceiverConfig;
  clock: WallClock;
  /** The baseline's recorder; no baseline connection without it (backbone mode). */
  baseline: PathRecorder | undefined;
  /** The control's recorder; no control connection without it. */
  control: PathRecorder | undefined;
  /** Keeps the baseline's raw messages (`record`), when on. */
  capture: CaptureWriter | undefined;
  events: {
    warning(error: FeedpathError): void;
    /** The baseline gave up (FP_EXCHANGE_UNREACHABLE): the run ends. */
    fatal(error: FeedpathError): void;
    log(message: string): void;
  };
}

export interface DirectFeeds {
  feed: ExchangeFeed | undefined;
  controlFeed: ExchangeFeed | undefined;
  baselineConnections: ConnectionLog;
  controlConnections: ConnectionLog;
}

/** The baseline and control feeds, created, not started. */
export function directFeeds(options: DirectOptions): DirectFeeds {
  const { config, clock, baseline, control, capture } = options;
  const { warning: warn, fatal, log } = options.events;
  const baselineConnections = new ConnectionLog('receiver', 'baseline');
  const controlConnections = new ConnectionLog('receiver', 'control');
  // The A/A control is the baseline's twin: the same URL and options, on a connection of its own.
  const open = (connections: ConnectionLog, onMessage: MessageHandler, events: FeedEvents): ExchangeFeed =>
    new ExchangeFeed({ ...feedOptions(config), clock, connections, onMessage, events });
  const feed =
    baseline === undefined
      ? undefined
      : open(
          baselineConnections,
          (data, stampNs, connection) => {
            baseline.arrive(data, stampNs, connection);
            // After the stamp and the queueing: keeping the bytes costs two array pushes (capture-writer.ts).
            capture?.append(data, stampNs);
          },
          { warning: warn, fatal, log },
        );
  const controlFeed =
    control === undefined
      ? undefined
      : open(controlConnections, (data, stampNs, connection) => control.arrive(data, stampNs, connection), {
          warning: (error) => warn(new FeedpathError(error.code, `control: ${error.message}`)),
          // The control is auxiliary: without it the paths are still measured.
          fatal: (error) =>
            warn(new FeedpathError(error.code, `control: ${error.message}; the run goes on without it`)),
          log: (line) => log(`control ${line}`),
        });
  return { feed, controlFeed, baselineConnections, controlConnections };
}

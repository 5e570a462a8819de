/**
 * What Lambda's log handling needs of a function's own lines: the invocation's request id on
 * each log line, and a `level` on each metrics line that the function's log-level filter keeps.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricsOptions } from '@aws-lambda-powertools/metrics/types';

/** Levels at which Lambda's filter (the stack's `logLevel`) drops a line it reads as INFO. */
const LEVELS_ABOVE_INFO = new Set(['WARN', 'ERROR', 'FATAL']);

/**
 * Metrics whose lines carry the function's log level when it is above INFO. Lambda reads a
 * JSON line without `level` as INFO and its log-level filter drops it at WARN or ERROR, and
 * with the line its metrics, the alarms on them and the dashboard's counts. At INFO or below,
 * or with no filter, the lines are as Powertools writes them.
 */
export class LevelledMetrics extends Metrics {
  readonly #level: string | undefined;

  constructor(options?: MetricsOptions, logLevel = process.env.AWS_LAMBDA_LOG_LEVEL) {
    super(options);
    const level = logLevel?.toUpperCase();
    this.#level = level !== undefined && LEVELS_ABOVE_INFO.has(level) ? level : undefined;
  }

  override publishStoredMetrics(): this {
    if (this.#level !== undefined && this.hasStoredMetrics())
      this.addMetadata('level', this.#level);
    return super.publishStoredMetrics();
  }
}

/** What of Lambda's invocation context the log lines need (shared/ takes no Lambda types). */
interface Invocation {
  readonly awsRequestId: string;
}

/**
 * The handler with the invocation's request id on every line `logger` writes while it runs
 * (`function_request_id`, Powertools' name for it): Powertools writes its lines itself, so
 * Lambda adds none, and concurrent invocations' lines could not be told apart. Only the id:
 * the log group already names the function, and every key is paid for on every line.
 */
export function withLogContext<
  Args extends [event: unknown, context?: Invocation, ...rest: unknown[]],
  Result,
>(
  logger: Pick<Logger, 'appendKeys'>,
  handler: (...args: Args) => Promise<Result>,
): (...args: Args) => Promise<Result> {
  return (...args) => {
    // Lambda always passes the context; a harness calling the handler by hand may not.
    const requestId = args[1]?.awsRequestId;
    if (requestId !== undefined) logger.appendKeys({ function_request_id: requestId });
    return handler(...args);
  };
}

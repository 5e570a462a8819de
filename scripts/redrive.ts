/**
 * `npm run redrive`: moves the messages of the dead-letter queue back to the queue they came
 * from (an SQS message move task), waits for the move to finish and prints how many moved.
 * Against the deployed stack with `--dlq-arn`, else against the local stack of `npm start`.
 */
import './local/sdk-notice.ts';
import { pathToFileURL } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import {
  type DeployedStack,
  resolveStack,
  STACK_OPTIONS,
  StackResolutionError,
  stackUsage,
} from './deployed/stack.ts';
import { endQuietlyWhenReaderCloses, numberFlag, parseFlags, UsageError } from './local/cli.ts';
import { loadDotEnv, readLocalTarget } from './local/config.ts';
import { deadLetterQueueName } from './local/defaults.ts';
import { isMissingQueue, LOCAL_CLIENT_CONFIG } from './local/servers.ts';
import { exportQueueName } from './local/stack.ts';
import { localQueueArn, RedriveError, redrive } from './operations/redrive.ts';

export { redrive, UsageError };

export const USAGE = `Usage: npm run redrive -- [options]

Moves every message of the dead-letter queue back to its source queue and prints how many moved.

${stackUsage(29)}
                             With --stack: its DeadLetterQueueArn output.
  --exports                  the export queue's DLQ instead (output ExportDeadLetterQueueArn;
                             locally QUEUE_NAME-exports-dlq)
  --dlq-arn <arn>            a dead-letter queue by ARN; without it or --stack, the DLQ of the
                             local stack (QUEUE_NAME-dlq) on SQS_PORT, read as npm start reads
                             it (.env included), or at SQS_ENDPOINT; with SQS_ENDPOINT set, the
                             ARN is looked up on that local server
  --destination-arn <arn>    move to this queue instead of the one the messages came from
  --max-per-second <n>       throttle the move (1-500 messages per second; default: SQS decides)
  --timeout-seconds <n>      give up waiting after this long (default 900)
  -h, --help                 show this help`;

const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
interface Output {
  log(line: string): void;
  error(line: string): void;
}

/** The CLI: returns the exit code instead of exiting, so tests can run it in-process. */
export async function main(
  argv: readonly string[],
  environment: NodeJS.ProcessEnv = process.env,
  output: Output = console,
): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    output.error(`npm run redrive: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    output.log(USAGE);
    return 0;
  }

  let target: { sqs: SQSClient; deadLetterQueueArn: () => Promise<string>; close(): void };
  try {
    target =
      options.stack === undefined
        ? deadLetterQueue(options.deadLetterQueueArn, options.exports, environment)
        : stackDeadLetterQueue(
            await resolveStack({ ...options, stack: options.stack }),
            options.exports,
          );
  } catch (error) {
    if (!(error instanceof ConfigurationError || error instanceof StackResolutionError)) {
      throw error;
    }
    output.error(`npm run redrive: ${error.message}`);
    return 2;
  }
  const { sqs } = target;
  try {
    const deadLetterQueueArn = await target.deadLetterQueueArn();
    const result = await redrive(sqs, {
      deadLetterQueueArn,
      ...(options.destinationArn === undefined ? {} : { destinationArn: options.destinationArn }),
      ...(options.maxMessagesPerSecond === undefined
        ? {}
        : { maxMessagesPerSecond: options.maxMessagesPerSecond }),
      timeoutMs: options.timeoutSeconds * 1000,
    });
    const destination = options.destinationArn ?? 'the queue each message came from';
    output.log(
      `${result.status}: moved ${result.messagesMoved} message${result.messagesMoved === 1 ? '' : 's'} from ${deadLetterQueueArn} to ${destination}`,
    );
    return result.status === 'COMPLETED' ? 0 : 1;
  } catch (error) {
    output.error(`npm run redrive: ${describe(error)}`);
    return 1;
  } finally {
    target.close();
  }
}

function parseOptions(argv: readonly string[]) {
  const { values } = parseFlags({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'dlq-arn': { type: 'string' },
      'destination-arn': { type: 'string' },
      'max-per-second': { type: 'string' },
      'timeout-seconds': { type: 'string', default: '900' },
      exports: { type: 'boolean', default: false },
      ...STACK_OPTIONS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.stack !== undefined && values['dlq-arn'] !== undefined) {
    throw new UsageError('--stack and --dlq-arn both name the queue: give one');
  }
  for (const flag of ['dlq-arn', 'destination-arn'] as const) {
    const arn = values[flag];
    if (arn !== undefined && !QUEUE_ARN.test(arn)) {
      throw new UsageError(`--${flag} must be an SQS queue ARN (arn:aws:sqs:…), got "${arn}"`);
    }
  }
  return {
    help: values.help,
    stack: values.stack,
    region: values.region,
    profile: values.profile,
    exports: values.exports,
    deadLetterQueueArn: values['dlq-arn'],
    destinationArn: values['destination-arn'],
    maxMessagesPerSecond:
      values['max-per-second'] === undefined
        ? undefined
        : numberFlag('max-per-second', values['max-per-second'], { min: 1, max: 500 }),
    timeoutSeconds: numberFlag('timeout-seconds', values['timeout-seconds'], {
      min: 1,
      max: 86_400,
    }),
  };
}

/**
 * The SQS client and the DLQ: the deployed one named by its ARN, or the local stack's, found
 * as npm start finds it. SQS_ENDPOINT points at a local server whether or not an ARN is given.
 */
function deadLetterQueue(
  arn: string | undefined,
  exports: boolean,
  environment: NodeJS.ProcessEnv,
) {
  if (arn !== undefined && !environment.SQS_ENDPOINT) {
    // The ARN names the queue's region; credentials come from the usual AWS chain.
    const sqs = new SQSClient({ region: QUEUE_ARN.exec(arn)?.[1] });
    return { sqs, deadLetterQueueArn: async () => arn, close: () => sqs.destroy() };
  }
  const local = readLocalTarget(environment);
  const sqs = new SQSClient({ ...LOCAL_CLIENT_CONFIG, endpoint: local.sqsEndpoint() });
  const name = exports
    ? deadLetterQueueName(exportQueueName(local.config.queueName))
    : local.deadLetterQueueName;
  const localArn = async () => {
    try {
      return await localQueueArn(sqs, name);
    } catch (error) {
      if (!isMissingQueue(error)) throw error;
      throw new RedriveError(
        exports
          ? `no export dead-letter queue ${name} in the local stack: its npm start runs no exporter (start it with DATASAUR_API_URL, and DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET, set)`
          : `no dead-letter queue ${name} in the local stack: is its QUEUE_NAME ${local.config.queueName}?`,
      );
    }
  };
  return {
    sqs,
    deadLetterQueueArn: async () => arn ?? (await localArn()),
    close: () => sqs.destroy(),
  };
}

/** The DLQ a deployed stack names in its outputs. */
function stackDeadLetterQueue(stack: DeployedStack, exports: boolean) {
  const arn = exports
    ? stack.output('exportDeadLetterQueueArn', 'to redrive the export queue')
    : stack.output('deadLetterQueueArn', 'to redrive the webhook queue');
  return {
    sqs: stack.clients.sqs,
    deadLetterQueueArn: async () => arn,
    close: () => stack.clients.destroy(),
  };
}

function describe(error: unknown): string {
  if (error instanceof RedriveError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code === 'ECONNREFUSED'
      ? `cannot reach SQS (${error.message}): is \`npm start\` running, or did you mean --dlq-arn?`
      : `${error.name}: ${error.message}`;
  }
  return String(error);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  endQuietlyWhenReaderCloses();
  loadDotEnv();
  process.exitCode = await main(process.argv.slice(2));
}

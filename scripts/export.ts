/**
 * `npm run export -- --project <id>`: asks the exporter to archive a project now (a re-archive)
 * and prints its progress until the file is in the bucket. It sends a request to the export
 * queue, as the worker does, and watches the export's item in the table.
 */
import { UNKNOWN_TEAM } from '../shared/export/exporter.ts';
import { projectKeyProblem } from '../shared/store/item-limits.ts';
import './local/sdk-notice.ts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { createExportQueue } from '../shared/export/export-queue.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import { describeError } from '../shared/runtime/errors.ts';
import type { ExportArchiveItem } from '../shared/store/items.ts';
import { exportArchiveKey } from '../shared/store/keys.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import {
  type DeployedStack,
  resolveStack,
  STACK_OPTIONS,
  StackResolutionError,
  stackUsage,
} from './deployed/stack.ts';
import { endQuietlyWhenReaderCloses, numberFlag, parseFlags, UsageError } from './local/cli.ts';
import { readLocalTarget } from './local/config.ts';
import { LOCAL_CLIENT_CONFIG } from './local/servers.ts';
import { exportQueueName } from './local/stack.ts';

const POLL_MS = 1_000;

const USAGE = `Usage: npm run export -- --project <projectId> [flags]

Archives the project's export now (trigger MANUAL), through the exporter of the local stack
(\`npm start\` with DATASAUR_CLIENT_ID set) or of a deployed stack, and prints its progress.

Flags:
  --project <id>            the project to export (required)
  --timeout-seconds <n>     how long to wait for the archive (default 600)
${stackUsage(28)}
                            With --stack: its ExportQueueUrl and TableName outputs.
  --queue-url <url>         the deployed stack's export queue (output ExportQueueUrl); without
                            it, the local stack's, found as npm start sets it up (SQS_PORT, …)
  --table <name>            the deployed stack's table (output TableName); without it, the
                            local stack's (DYNAMODB_PORT, TABLE_NAME, …)
  --region <region>         AWS region of the deployed stack (default: your AWS configuration)
`;

const OPTIONS = {
  project: { type: 'string' },
  'timeout-seconds': { type: 'string' },
  'queue-url': { type: 'string' },
  table: { type: 'string' },
  ...STACK_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCommandLine(args: string[]) {
  const { values } = parseFlags({ args, options: OPTIONS, strict: true });
  if (values.help) return undefined;
  const projectId = values.project?.trim();
  if (projectId === undefined || projectId === '') throw new UsageError('--project is required');
  // Checked before anything is queued: the exporter could never write this project's items.
  const keyProblem = projectKeyProblem(projectId, UNKNOWN_TEAM);
  if (keyProblem !== undefined) throw new UsageError(`--project: ${keyProblem}`);
  if ((values['queue-url'] === undefined) !== (values.table === undefined)) {
    throw new UsageError('--queue-url and --table go together (a deployed stack), or neither');
  }
  if (values.region !== undefined && values.stack === undefined && values.table === undefined) {
    throw new UsageError(
      '--region says where a deployed stack is: pass --stack <name> (or --queue-url and --table) as well',
    );
  }
  if (values.stack !== undefined && values.table !== undefined) {
    throw new UsageError(
      '--stack finds the queue and the table itself: drop --queue-url and --table',
    );
  }
  return {
    projectId,
    timeoutMs:
      numberFlag('timeout-seconds', values['timeout-seconds'] ?? '600', { min: 1, max: 86_400 }) *
      1000,
    stack:
      values.stack === undefined
        ? undefined
        : { stack: values.stack, region: values.region, profile: values.profile },
    deployed:
      values.table === undefined
        ? undefined
        : { queueUrl: values['queue-url'] as string, table: values.table, region: values.region },
  };
}

function describe(item: ExportArchiveItem): string {
  switch (item.status) {
    case 'ARCHIVED':
      return `ARCHIVED s3://${item.bucket}/${item.key}  ${item.bytes} bytes  sha256 ${item.sha256}`;
    case 'FAILED':
      return `FAILED ${item.reason ?? ''}`;
    case 'WAITING':
      return `WAITING ${item.reasonCode}: ${item.reason ?? ''}`;
    default:
      return `REQUESTED attempt ${item.attempts}${item.exportId === undefined ? '' : `, Datasaur export ${item.exportId}`}`;
  }
}

async function run(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args);
  if (parsed === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { projectId, timeoutMs } = parsed;
  const stack: DeployedStack | undefined =
    parsed.stack === undefined ? undefined : await resolveStack(parsed.stack);
  const deployed =
    stack === undefined
      ? parsed.deployed
      : {
          queueUrl: stack.output('exportQueueUrl', 'to ask for an export (is exportOn off?)'),
          table: stack.output('tableName', 'to follow the export'),
          region: stack.region,
        };
  const aws = deployed?.region === undefined ? {} : { region: deployed.region };
  const local = deployed === undefined ? readLocalTarget() : undefined;
  const sqs =
    stack?.clients.sqs ??
    new SQSClient(
      local === undefined ? aws : { ...LOCAL_CLIENT_CONFIG, endpoint: local.sqsEndpoint() },
    );
  const dynamoDb =
    stack?.clients.dynamoDb ??
    new DynamoDBClient(
      local === undefined ? aws : { ...LOCAL_CLIENT_CONFIG, endpoint: local.dynamoDbEndpoint() },
    );
  const documents = DynamoDBDocumentClient.from(dynamoDb);
  const tableName = deployed?.table ?? local?.config.tableName ?? '';
  const stackFlag = stack === undefined ? '' : ` --stack ${stack.name}`;
  try {
    let queueUrl = deployed?.queueUrl;
    if (queueUrl === undefined) {
      const name = exportQueueName(local?.config.queueName ?? '');
      try {
        ({ QueueUrl: queueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name })));
      } catch (error) {
        console.error(
          `no export queue ${name} in the local stack (${describeError(error)}): run \`npm start\` with DATASAUR_API_URL (and DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET) set`,
        );
        return 1;
      }
    }
    const requestedAt = new Date().toISOString();
    await createExportQueue(sdkQueueSender(sqs), String(queueUrl)).send({
      kind: 'manual',
      projectId,
      requestedAt,
    });
    console.log(`requested: export of project ${projectId} (MANUAL-${requestedAt})`);

    const key = exportArchiveKey(projectId, 'MANUAL', requestedAt);
    const deadline = Date.now() + timeoutMs;
    let shown = '';
    while (Date.now() < deadline) {
      const { Item } = await documents.send(
        new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
      );
      const item = Item as ExportArchiveItem | undefined;
      const line = item === undefined ? 'queued' : describe(item);
      if (line !== shown) console.log(line);
      shown = line;
      if (item?.status === 'ARCHIVED') return 0;
      if (item?.status === 'FAILED') return 1;
      // It starts by itself once the credentials work; nothing to watch until then.
      if (item?.status === 'WAITING') return 1;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    console.error(
      `not archived within ${timeoutMs / 1000} s; the exporter keeps trying: npm run query -- exports --project ${projectId}${stackFlag}`,
    );
    return 1;
  } finally {
    sqs.destroy();
    dynamoDb.destroy();
    stack?.clients.destroy();
  }
}

endQuietlyWhenReaderCloses();
try {
  process.exitCode = await run(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigurationError || error instanceof StackResolutionError) {
    process.stderr.write(`npm run export: ${error.message}\n`);
    process.exit(2);
  }
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`npm run export: ${error.message}\n\n${USAGE}`);
  process.exitCode = 2;
}

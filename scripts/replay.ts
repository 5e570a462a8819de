/**
 * `npm run replay -- events|rejected`: re-publishes stored events of a time range (for a new
 * consumer, or after one's outage), or sends rejected bodies back through the worker's
 * interpretation. Against the local stack by default, or a deployed table and bus.
 */
import './local/sdk-notice.ts';
import type { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DEFAULT_EVENT_SOURCE,
  DETAIL_TYPES,
  type DetailType,
  isDetailType,
} from '../shared/bus/bus-events.ts';
import { createBusPublisher } from '../shared/bus/bus-publisher.ts';
import { sdkBusClient } from '../shared/bus/sdk-bus-client.ts';
import { createExportQueue } from '../shared/export/export-queue.ts';
import { replayEvents, replayRejected } from '../shared/replay/replay.ts';
import { booleanEnv, optionalEnv } from '../shared/runtime/environment.ts';
import { describeError } from '../shared/runtime/errors.ts';
import { InvalidQueryError, validRange } from '../shared/store/queries.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { STACK_OPTIONS, stackUsage } from './deployed/stack.ts';
import { parseFlags, runCommandLine, UsageError } from './local/cli.ts';
import { exportOnFromEnvironment } from './local/config.ts';
import { DEFAULT_EVENTS_PORT, DEFAULT_TABLE_NAME } from './local/defaults.ts';
import { LOCAL_CLIENT_CONFIG } from './local/servers.ts';
import { exportQueueName } from './local/stack.ts';
import { archiveBeside, connectTable, type TableConnection } from './local/table-connection.ts';

const USAGE = `Usage: npm run replay -- <command> --from <ISO time> --to <ISO time> [flags]

Commands:
  events     re-publish the stored events received in [from, to), read from the feed index
             (never a scan); consumers dedupe on detail.eventId
  rejected   re-interpret the rejected bodies received in [from, to) that arrived as signed
             webhooks: those that parse now are stored as events (once), published and sent
             for export like any other; the others stay rejected. Queue messages that never
             passed the signature check are counted (unsigned) and never replayed

Flags:
  --type <detail-type>   (events) only this type; repeat for several. One of:
                         ${DETAIL_TYPES.filter((type) => type !== 'Export Archived').join(', ')}
                         (default: every type the worker publishes; Labels Updated only
                         with PUBLISH_LABEL_EVENTS=true)
  --project <projectId>  (events) only this project's events
  --dry-run              count what would be replayed; publish and store nothing
  --json                 print the counts as JSON
  --table <name>         table name (default ${DEFAULT_TABLE_NAME})
  --endpoint <url>       DynamoDB endpoint (default $DYNAMODB_ENDPOINT, else the local stack's
                         on $DYNAMODB_PORT, as npm start reads it, .env included;
                         with --table or --region and no endpoint, DynamoDB in AWS)
${stackUsage(25)}
                         With --stack: the table, the bus and the source come from its outputs.
  --bus <name>           event bus (default: default)
  --events-endpoint <url>
                         EventBridge endpoint (default: $EVENTS_ENDPOINT, else the local stack's
                         on $EVENTS_PORT, ${DEFAULT_EVENTS_PORT} by default; EventBridge in AWS
                         for a deployed table)
  --source <source>      source of the events (default $EVENT_SOURCE, else ${DEFAULT_EVENT_SOURCE})
  --export-queue-url <url>
                         (rejected) the export queue recovered events ask for their export on
                         (output ExportQueueUrl; default: the local stack's export queue when
                         it has one, else none); which statuses export: $EXPORT_ON (REVIEWED)
`;

const OPTIONS = {
  from: { type: 'string' },
  to: { type: 'string' },
  type: { type: 'string', multiple: true },
  project: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  table: { type: 'string' },
  endpoint: { type: 'string' },
  ...STACK_OPTIONS,
  bus: { type: 'string' },
  'events-endpoint': { type: 'string' },
  source: { type: 'string' },
  'export-queue-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];

function parseCommandLine(args: string[]): { command: string; values: Values } {
  const { values, positionals } = parseFlags({
    args,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { command: 'help', values };
  const [command, ...rest] = positionals;
  if (command !== 'events' && command !== 'rejected') {
    throw new UsageError(
      command === undefined ? 'no command given' : `unknown command "${command}"`,
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (command === 'rejected' && (values.type !== undefined || values.project !== undefined)) {
    throw new UsageError('"rejected" takes no --type or --project');
  }
  if (values.from === undefined || values.to === undefined) {
    throw new UsageError('--from and --to are required');
  }
  return { command, values };
}

function typesOf(values: Values, publishLabelEvents: boolean): DetailType[] {
  if (values.type === undefined) {
    return DETAIL_TYPES.filter(
      (type) => type !== 'Export Archived' && (type !== 'Labels Updated' || publishLabelEvents),
    );
  }
  return values.type.map((type) => {
    if (!isDetailType(type) || type === 'Export Archived') {
      throw new UsageError(
        `--type must be one of ${DETAIL_TYPES.filter((one) => one !== 'Export Archived').join(', ')}; got "${type}"`,
      );
    }
    return type;
  });
}

/** Progress on a terminal: one line rewritten in place. */
function progress(label: string) {
  if (!process.stderr.isTTY) return undefined;
  return (counts: Readonly<Record<string, number>>) => {
    const text = Object.entries(counts)
      .map(([name, count]) => `${name} ${count}`)
      .join(', ');
    process.stderr.write(`\r${label}: ${text}`);
  };
}

/**
 * Where recovered events ask for their export: `--export-queue-url`, else the local stack's
 * export queue if it runs one; undefined when there is none (or EXPORT_ON is off).
 */
async function exportSink(values: Values, table: TableConnection) {
  const exportOn = exportOnFromEnvironment(UsageError);
  if (exportOn === 'off') return undefined;
  const given = values['export-queue-url'] ?? table.stack?.outputs.exportQueueUrl;
  if (given === undefined && table.local === undefined) return undefined;
  const sqs =
    table.stack?.clients.sqs ??
    new SQSClient(
      table.local === undefined
        ? table.region === undefined
          ? {}
          : { region: table.region }
        : { ...LOCAL_CLIENT_CONFIG, endpoint: table.local.sqsEndpoint() },
    );
  let queueUrl = given;
  if (queueUrl === undefined) {
    const queueName = exportQueueName(table.local?.config.queueName ?? '');
    queueUrl = await sqs
      .send(new GetQueueUrlCommand({ QueueName: queueName }))
      .then((found) => found.QueueUrl)
      .catch(() => undefined);
  }
  if (queueUrl === undefined) {
    sqs.destroy();
    return undefined;
  }
  return {
    exportOn,
    queue: createExportQueue(sdkQueueSender(sqs), queueUrl),
    close: () => sqs.destroy(),
  };
}

async function run(args: string[]): Promise<number> {
  const { command, values } = parseCommandLine(args);
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  let range: { from: string; to: string };
  try {
    range = validRange({ from: values.from as string, to: values.to as string });
  } catch (error) {
    if (error instanceof InvalidQueryError) throw new UsageError(error.message);
    throw error;
  }
  const table = await connectTable(values);
  const { stack } = table;
  const archive = archiveBeside(table);
  const publishLabelEvents = booleanEnv('PUBLISH_LABEL_EVENTS', false);
  const eventsEndpoint =
    values['events-endpoint'] ??
    (process.env.EVENTS_ENDPOINT || undefined) ??
    table.local?.eventsEndpoint();
  const eventBridge =
    stack?.clients.eventBridge ??
    new EventBridgeClient({
      ...(table.deployed
        ? table.region === undefined
          ? {}
          : { region: table.region }
        : LOCAL_CLIENT_CONFIG),
      ...(eventsEndpoint === undefined ? {} : { endpoint: eventsEndpoint }),
    });
  const context = {
    documents: table.documents,
    tableName: table.tableName,
    publisher: createBusPublisher(sdkBusClient(eventBridge), {
      eventBusName:
        values.bus ?? stack?.output('eventBusName', 'to publish on the bus') ?? 'default',
      source:
        values.source ??
        stack?.outputs.eventSource ??
        optionalEnv('EVENT_SOURCE', DEFAULT_EVENT_SOURCE),
    }),
    dryRun: values['dry-run'] === true,
  };
  const dryRun = context.dryRun ? ' (dry run: nothing published or stored)' : '';
  try {
    if (command === 'events') {
      const result = await replayEvents(
        { ...context, onProgress: progress('replaying events') },
        { ...range, types: typesOf(values, publishLabelEvents), projectId: values.project },
      );
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (values.json === true) console.log(JSON.stringify({ ...range, ...result }, null, 2));
      else {
        console.log(
          `${range.from} to ${range.to}: ${result.read} events read from the feed, ${result.matched} selected, ${result.published} published, ${result.failed} failed${dryRun}`,
        );
        for (const [type, count] of Object.entries(result.byType)) {
          console.log(`  ${type}: ${count}`);
        }
        if (result.firstError !== undefined) console.log(`  first failure: ${result.firstError}`);
      }
      return result.failed > 0 ? 1 : 0;
    }
    const exports = await exportSink(values, table);
    const result = await replayRejected(
      {
        ...context,
        ...(exports === undefined ? {} : { exports }),
        onProgress: progress('replaying rejected bodies'),
        publishLabelEvents,
        bodies: archive.bodies,
      },
      range,
    ).finally(() => exports?.close());
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (values.json === true) console.log(JSON.stringify({ ...range, ...result }, null, 2));
    else {
      console.log(
        `${range.from} to ${range.to}: ${result.read} rejected bodies read, ${result.unsigned} never signed (not replayed), ${result.recovered} now parse${context.dryRun ? '' : ' and are stored as events'}, ${result.stillRejected} still rejected, ${result.published} published, ${result.failed} failed${dryRun}`,
      );
    }
    return result.failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof InvalidQueryError) throw new UsageError(error.message);
    const hint = table.deployed ? '' : ' (is `npm start` running?)';
    console.error(
      `replay failed against ${table.where} (table ${table.tableName}): ${describeError(error)}${hint}`,
    );
    return 1;
  } finally {
    table.close();
    archive.close();
    eventBridge.destroy();
  }
}

await runCommandLine(run, USAGE, { prefix: 'npm run replay: ', usageOnConfigurationError: true });

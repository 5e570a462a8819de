/**
 * Where the console reads from. The pages see only `ConsoleSource`; `localSource` is the
 * stack `npm start` runs (found as every CLI finds it: `readLocalTarget`); `stackSource`
 * (stack-source.ts) is a deployed stack, built from its resolved clients.
 */
import { createReadStream, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_EVENT_SOURCE } from '../../shared/bus/bus-events.ts';
import { createBusPublisher } from '../../shared/bus/bus-publisher.ts';
import { sdkBusClient } from '../../shared/bus/sdk-bus-client.ts';
import { createDatasaurClient, type DatasaurClient } from '../../shared/datasaur/client.ts';
import type { ExportOn } from '../../shared/export/export-trigger.ts';
import { booleanEnv, ConfigurationError, optionalEnv } from '../../shared/runtime/environment.ts';
import { createHourlyCounts, type HourlyCounts } from '../../shared/store/hourly-counts.ts';
import { createQueries, type Queries, type View } from '../../shared/store/queries.ts';
import { sdkTableDocuments } from '../../shared/store/sdk-table-documents.ts';
import { s3BodyReader } from '../../shared/webhook/body-archive.ts';
import type { BodyObject } from '../../shared/webhook/claim-check.ts';
import type { AlarmState } from '../deployed/alarms.ts';
import { exportOnFromEnvironment, type LocalTarget, readLocalTarget } from '../local/config.ts';
import { deadLetterQueueName, EVENTS_FILE_NAME } from '../local/defaults.ts';
import { readReconcileEnvironment } from '../local/reconcile-config.ts';
import { isMissingQueue, LOCAL_CLIENT_CONFIG, localS3 } from '../local/servers.ts';
import { exportQueueName } from '../local/stack.ts';
import { localQueueArn } from '../operations/redrive.ts';
import {
  type DeadLetterQueue,
  type StackOperations,
  stackOperations,
  userMessage,
} from './operations.ts';

export interface QueueDepth {
  readonly name: string;
  /** Messages waiting, or why the depth could not be read. */
  readonly depth: number | { readonly unavailable: string };
}

/** One event as the bus received it (only a source that can see the bus knows). */
export interface Publication {
  readonly detailType: string;
  readonly time: string;
}

export interface ConsoleSource {
  /** What the console reads, for the page footer: e.g. the local stack's endpoint and table. */
  readonly description: string;
  readonly queries: Queries;
  readonly hourlyCounts: HourlyCounts;
  deadLetterQueues(): Promise<QueueDepth[]>;
  /**
   * The items with this event id (events, rejected bodies, export deliveries), a stored event
   * first: the table's GSI3 lookup.
   */
  eventItems(eventId: string): Promise<View[]>;
  /** The raw body of a claim-checked event, as its sender signed it. */
  archivedBody(bodyObject: BodyObject): Promise<Buffer>;
  /** What the bus received for this event; undefined when this source cannot see the bus. */
  publications(eventId: string): Promise<Publication[] | undefined>;
  /** Who the console acts as: the AWS identity (STS GetCallerIdentity), or the local stack. */
  identity(): Promise<string>;
  /** The stack's alarms and their states; undefined when it has none (the local stack). */
  alarms?(): Promise<AlarmState[]>;
  /** A short-lived link to download an archived export; undefined when there is none. */
  downloadUrl?(bucket: string, key: string): Promise<string>;
  /** The actions (offered only when the console is started with --allow-actions). */
  readonly operations: StackOperations;
  close(): void;
}

/** The local stack at `target` (`readLocalTarget()`: as npm start and every CLI find it). */
export function localSource(target: LocalTarget = readLocalTarget()): ConsoleSource {
  const client = new DynamoDBClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: target.dynamoDbEndpoint(),
    maxAttempts: 2,
  });
  const documents = DynamoDBDocumentClient.from(client);
  const { tableName } = target.config;
  const s3 = localS3(target.s3Endpoint(), { maxAttempts: 2 });
  const bodies = s3BodyReader(s3);
  const sqs = new SQSClient({
    ...LOCAL_CLIENT_CONFIG,
    endpoint: target.sqsEndpoint(),
    maxAttempts: 1,
  });
  let eventBridge: EventBridgeClient | undefined;
  const publisher = () => {
    eventBridge ??= new EventBridgeClient({
      ...LOCAL_CLIENT_CONFIG,
      endpoint: target.eventsEndpoint(),
    });
    return createBusPublisher(sdkBusClient(eventBridge), {
      eventBusName: 'default',
      source: optionalEnv('EVENT_SOURCE', DEFAULT_EVENT_SOURCE),
    });
  };
  const queueUrl = (name: string) => async () =>
    String((await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl);
  const { queueName } = target.config;
  const deadLetterQueues = [queueName, exportQueueName(queueName)].map((source) => {
    const name = deadLetterQueueName(source);
    return {
      name,
      url: queueUrl(name),
      arn: () => localQueueArn(sqs, name),
      sourceArn: () => localQueueArn(sqs, source),
    };
  });
  const eventsFile = join(target.config.dataDir, EVENTS_FILE_NAME);
  const queries = createQueries(documents, tableName, { bodies });
  let datasaur: DatasaurClient | undefined;
  return {
    description: `local stack: table ${tableName} at ${target.dynamoDbEndpoint()}`,
    queries,
    hourlyCounts: createHourlyCounts(sdkTableDocuments(documents), tableName),
    deadLetterQueues: () => Promise.all(deadLetterQueues.map((queue) => queueDepth(sqs, queue))),
    eventItems: (eventId) => queries.eventItems(eventId),
    archivedBody: (bodyObject) => bodies.get(bodyObject),
    publications: (eventId) => publishedInFile(eventsFile, eventId),
    identity: async () => 'local stack (no AWS identity: the local servers take any credentials)',
    operations: stackOperations({
      sqs,
      documents,
      tableName,
      deadLetterQueues,
      exportQueueUrl: () => queueUrl(exportQueueName(queueName))().catch(() => undefined),
      publisher,
      bodies,
      ...replaySettings(),
      // As npm run reconcile: the API and credentials npm start uses, else the fake Datasaur's.
      datasaur: () => {
        const { apiUrl, credentials } = readReconcileEnvironment(process.env, { deployed: false });
        if (credentials === undefined) return undefined;
        datasaur ??= createDatasaurClient({ baseUrl: apiUrl, credentials });
        return datasaur;
      },
      leaseHolder: `npm run console on ${hostname()}, pid ${process.pid}`,
    }),
    close: () => {
      client.destroy();
      s3.destroy();
      sqs.destroy();
      eventBridge?.destroy();
    },
  };
}

/** Which statuses export and whether label events publish: as the worker reads them. */
export function replaySettings(): { exportOn: ExportOn; publishLabelEvents: boolean } {
  const exportOn = exportOnFromEnvironment(ConfigurationError);
  return { exportOn, publishLabelEvents: booleanEnv('PUBLISH_LABEL_EVENTS', false) };
}

/** The depth of a dead-letter queue, or why it could not be read. */
export async function queueDepth(sqs: SQSClient, queue: DeadLetterQueue): Promise<QueueDepth> {
  const { name } = queue;
  try {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: await queue.url(),
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return { name, depth: Number(Attributes?.ApproximateNumberOfMessages ?? 0) };
  } catch (error) {
    const reason = error instanceof Error ? error.name : String(error);
    return {
      name,
      depth: {
        unavailable: isMissingQueue(error)
          ? 'no such queue (the exporter is off)'
          : (userMessage(error) ?? `cannot reach SQS (${reason})`),
      },
    };
  }
}

/** The local bus appends every event it receives to a file: the lines naming this event. */
async function publishedInFile(path: string, eventId: string): Promise<Publication[]> {
  if (!existsSync(path)) return [];
  const found: Publication[] = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes(eventId)) continue;
    const event = JSON.parse(line) as {
      'detail-type'?: string;
      time?: string;
      detail?: { eventId?: string };
    };
    if (event.detail?.eventId !== eventId) continue;
    found.push({ detailType: String(event['detail-type']), time: String(event.time) });
  }
  return found;
}

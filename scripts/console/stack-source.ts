/**
 * A deployed stack as a `ConsoleSource`: the table, the dead-letter queues, the archive bucket
 * and the alarms named by its CloudFormation outputs (`resolveStack`), read with the user's
 * AWS credentials (the operator policy). Export downloads are pre-signed GetObject URLs.
 */

import { hostname } from 'node:os';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DEFAULT_EVENT_SOURCE } from '../../shared/bus/bus-events.ts';
import { createBusPublisher } from '../../shared/bus/bus-publisher.ts';
import { sdkBusClient } from '../../shared/bus/sdk-bus-client.ts';
import {
  createDatasaurClient,
  type DatasaurClient,
  DEFAULT_DATASAUR_API_URL,
} from '../../shared/datasaur/client.ts';
import { createHourlyCounts } from '../../shared/store/hourly-counts.ts';
import { createQueries } from '../../shared/store/queries.ts';
import { sdkTableDocuments } from '../../shared/store/sdk-table-documents.ts';
import { s3BodyReader } from '../../shared/webhook/body-archive.ts';
import { stackAlarmStates } from '../deployed/alarms.ts';
import { readDatasaurCredentials } from '../deployed/secrets.ts';
import type { DeployedStack } from '../deployed/stack.ts';
import { type DeadLetterQueue, stackOperations } from './operations.ts';
import { type ConsoleSource, queueDepth, replaySettings } from './source.ts';

/** How long a download link works: long enough to click, short enough not to share. */
export const DOWNLOAD_LINK_SECONDS = 300;

export function stackSource(stack: DeployedStack): ConsoleSource {
  const { clients, outputs } = stack;
  const tableName = stack.output('tableName', 'for the console');
  const bodies = s3BodyReader(clients.s3);
  const queries = createQueries(clients.documents, tableName, { bodies });
  const sts = new STSClient({ ...stack.clientConfig, maxAttempts: 2 });
  const deadLetterQueues: DeadLetterQueue[] = [];
  for (const [urlKey, arnKey, sourceArn] of [
    ['deadLetterQueueUrl', 'deadLetterQueueArn', outputs.queueArn],
    // The stack names no export queue ARN: SQS finds each message's source.
    ['exportDeadLetterQueueUrl', 'exportDeadLetterQueueArn', undefined],
  ] as const) {
    const url = outputs[urlKey];
    const arn = outputs[arnKey];
    if (url === undefined || arn === undefined) continue;
    deadLetterQueues.push({
      name: url.slice(url.lastIndexOf('/') + 1),
      url: async () => url,
      arn: async () => arn,
      sourceArn: async () => sourceArn,
    });
  }
  let datasaur: DatasaurClient | undefined;
  return {
    description: `stack ${stack.name} in ${stack.region}: table ${tableName}`,
    queries,
    hourlyCounts: createHourlyCounts(sdkTableDocuments(clients.documents), tableName),
    deadLetterQueues: () =>
      Promise.all(deadLetterQueues.map((queue) => queueDepth(clients.sqs, queue))),
    eventItems: (eventId) => queries.eventItems(eventId),
    archivedBody: (bodyObject) => bodies.get(bodyObject),
    // The bus of a deployed stack keeps no record the console could read.
    publications: async () => undefined,
    identity: async () => {
      const { Arn, Account } = await sts.send(new GetCallerIdentityCommand({}));
      return `${Arn ?? 'unknown'} (account ${Account ?? 'unknown'})`;
    },
    alarms: async () => (await stackAlarmStates(stack)).states,
    downloadUrl: (bucket, key) =>
      getSignedUrl(clients.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: DOWNLOAD_LINK_SECONDS,
      }),
    operations: stackOperations({
      sqs: clients.sqs,
      documents: clients.documents,
      tableName,
      deadLetterQueues,
      exportQueueUrl: async () => outputs.exportQueueUrl,
      publisher: () =>
        createBusPublisher(sdkBusClient(clients.eventBridge), {
          eventBusName: outputs.eventBusName ?? 'default',
          source: outputs.eventSource ?? DEFAULT_EVENT_SOURCE,
        }),
      bodies,
      ...replaySettings(),
      // The Datasaur API the stack's functions call, with the credentials in its secret.
      datasaur: () => {
        if (outputs.datasaurCredentialsSecretArn === undefined) return undefined;
        datasaur ??= createDatasaurClient({
          baseUrl: outputs.datasaurApiUrl ?? DEFAULT_DATASAUR_API_URL,
          credentials: () => readDatasaurCredentials(stack),
        });
        return datasaur;
      },
      leaseHolder: `npm run console on ${hostname()}, pid ${process.pid}`,
    }),
    close: () => {
      sts.destroy();
      clients.destroy();
    },
  };
}

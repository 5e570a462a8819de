/**
 * Export archiving end to end: the worker stores status events and sends export requests to a
 * real local queue; the exporter handler archives them from the fake Datasaur API into s3rver
 * and records them in dynalite. Time inside the exporter is a virtual clock, so budgets and
 * backoff run out without waiting.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExporterHandler, EXPORTS_WAITING_METRIC } from '../functions/exporter/handler.ts';
import {
  createResumeHandler,
  isResumeEvent,
  RESUME_EVENT,
} from '../functions/exporter/resume-handler.ts';
import { createWorkerHandler } from '../functions/worker/handler.ts';
import { EXPORTER_ITEM_PARTITIONS } from '../infra/constructs/item-partitions.ts';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { NO_ARCHIVE } from '../scripts/local/no-archive.ts';
import {
  LOCAL_CLIENT_CONFIG,
  localArchiveUploader,
  localQueueSender,
  localTable,
} from '../scripts/local/servers.ts';
import { toSqsRecord } from '../scripts/local/sqs-records.ts';
import { checkCredentials } from '../shared/datasaur/check-credentials.ts';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import {
  CredentialsMissingError,
  parseDatasaurCredentials,
} from '../shared/datasaur/credentials-secret.ts';
import { exportTextProject } from '../shared/datasaur/export-text-project.ts';
import type { DatasaurCredentials } from '../shared/datasaur/get-access-token.ts';
import { DEFAULT_HTTP_SETTINGS } from '../shared/datasaur/http.ts';
import { DEFAULT_MAX_EXPORT_BYTES } from '../shared/export/download.ts';
import { createExportQueue } from '../shared/export/export-queue.ts';
import type { ExportOn } from '../shared/export/export-trigger.ts';
import { createExporter } from '../shared/export/exporter.ts';
import { resumeWaitingExports } from '../shared/export/resume.ts';
import type { Destroyable } from '../shared/runtime/aws-json-client.ts';
import { METRICS_NAMESPACE } from '../shared/store/batch-figures.ts';
import type { ExportArchiveItem } from '../shared/store/items.ts';
import { EXPORT_SORT_PREFIX, projectPartition } from '../shared/store/keys.ts';
import { createQueries } from '../shared/store/queries.ts';
import type { TableDocuments } from '../shared/store/table-documents.ts';
import { sdkQueueSender } from '../shared/webhook/sdk-queue-sender.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { limitedToPartitions } from './support/leading-keys.ts';
import {
  drainQueue,
  type LocalDynamoDb,
  type LocalS3,
  type LocalSqs,
  startLocalDynamoDb,
  startLocalS3,
  startLocalSqs,
} from './support/local-aws.ts';
import { startTestEventBus, type TestEventBus } from './support/local-events.ts';
import { metricsLinesOf } from './support/metrics-lines.ts';
import { recordingLogger } from './support/recording-logger.ts';
import { type S3Recorder, startS3Recorder } from './support/s3-recorder.ts';
import { capturedOutput } from './support/secret-guard.ts';
import { type Delivery, quietLogger, sqsEvent, sqsRecord } from './support/webhook-records.ts';

let dynamoDb: LocalDynamoDb;
let sqs: LocalSqs;
let s3: LocalS3;
let fake: FakeDatasaur;
let eventBus: TestEventBus;
const recorders: S3Recorder[] = [];
const uploaders: Destroyable[] = [];
beforeAll(async () => {
  [dynamoDb, sqs, s3, fake, eventBus] = await Promise.all([
    startLocalDynamoDb(),
    startLocalSqs(),
    startLocalS3(),
    startFakeDatasaur(),
    startTestEventBus(),
  ]);
});
afterAll(async () => {
  for (const uploader of uploaders) uploader.destroy();
  await Promise.all(recorders.map((recorder) => recorder.close()));
  await Promise.all([dynamoDb.close(), sqs.close(), s3.close(), fake.close(), eventBus.close()]);
});

let projectCount = 0;
/** A project the fake knows, with a fresh id so tests never share one. */
function newProject(): string {
  projectCount += 1;
  const id = `EXP-${projectCount}`;
  fake.upsertProject({ id, name: `${id}.txt`, status: 'IN_REVIEW' });
  return id;
}

function statusEvent(
  eventType: 'PROJECT_REVIEWED' | 'PROJECT_COMPLETED' | 'PROJECT_CREATED',
  projectId: string,
  timestamp: string,
): Delivery {
  return {
    body: JSON.stringify({
      eventType,
      data: {
        timestamp,
        project: { id: projectId, name: `${projectId}.txt`, tags: [] },
        team: { id: '7', name: 'Team Seven' },
      },
    }),
  };
}

/** A table, a bucket, an export queue, the worker and the exporter wired as in AWS. */
async function exportPipeline(
  options: {
    exportOn?: ExportOn;
    maxAttempts?: number;
    /** The credentials secret as the exporter reads it. @default the fake's */
    credentials?: () => Promise<DatasaurCredentials>;
    maxBytes?: number;
    stallTimeoutMs?: number;
    /** The whole attempt's length, in the exporter's (virtual) time. */
    attemptMs?: number;
    /** Every S3 call the exporter makes, by operation name (s3rver answers no ListMultipartUploads). */
    s3Operations?: string[];
    /**
     * S3 calls refused with AccessDenied, as a bucket or key policy would: s3rver grants every
     * request, so a server in front of it answers these itself (S3's 403 and error body).
     */
    refuseS3?: (operation: string) => boolean;
    /** The exporter's table client. @default the light client Lambda runs, on the test table */
    exporterDocuments?: TableDocuments;
  } = {},
) {
  const [tableName, bucket, queues] = await Promise.all([
    dynamoDb.createTable(),
    s3.createBucket(),
    sqs.createQueues({ maxReceiveCount: 10 }),
  ]);
  const worker = createWorkerHandler({
    documents: dynamoDb.documents,
    tableName,
    bodies: NO_ARCHIVE,
    logger: quietLogger(),
    exports: {
      exportOn: options.exportOn ?? 'REVIEWED',
      queue: createExportQueue(sdkQueueSender(sqs.sqs), queues.queueUrl),
    },
  });
  let virtualTime = Date.parse('2026-11-30T06:00:00.000Z');
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'exporter-test' });
  const logger = recordingLogger();
  const datasaur = createDatasaurClient({
    baseUrl: fake.url,
    credentials:
      options.credentials ??
      (async () => ({ clientId: fake.clientId, clientSecret: fake.clientSecret })),
    http: { sleep: async () => {} },
  });
  const recorder = await startS3Recorder(s3.server.endpoint, {
    refuse: options.refuseS3,
    operations: options.s3Operations,
  });
  recorders.push(recorder);
  const uploader = localArchiveUploader(recorder.endpoint);
  uploaders.push(uploader);
  const handler = createExporterHandler({
    exporter: createExporter({
      datasaur,
      // Held to the partitions the exporter's role allows, as IAM holds it in AWS.
      documents: limitedToPartitions(
        options.exporterDocuments ?? localTable(dynamoDb.server.endpoint),
        EXPORTER_ITEM_PARTITIONS,
      ),
      tableName,
      uploader,
      bucket,
      format: 'json_advanced',
      ...(options.attemptMs === undefined ? {} : { attemptMs: options.attemptMs }),
      now: () => virtualTime,
      sleep: async (ms) => {
        virtualTime += ms;
      },
      maxAttempts: options.maxAttempts ?? 3,
      // As the local stack does: public https hosts, and the (fake) Datasaur API's own origin.
      download: {
        maxBytes: options.maxBytes ?? DEFAULT_MAX_EXPORT_BYTES,
        trustedOrigins: [new URL(fake.url).origin],
        ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
      },
    }),
    logger: logger as unknown as Logger,
    metrics,
    // SQS through the light client, as the exporter runs in Lambda.
    sqs: localQueueSender(sqs.server.endpoint),
    queueUrl: queues.queueUrl,
    // A retry comes back at once: the test plays the queue's part.
    retrySeconds: 0,
    publisher: eventBus.publisher(),
  });

  /** Runs the exporter over the queue, as Lambda's event source would, until it is empty. */
  async function runExports(): Promise<void> {
    // What the last round returned for a retry comes back at once (retrySeconds 0), but
    // local-aws-sqs holds it in flight until its zero-second timer fires: wait for it.
    let retrying = 0;
    for (let round = 0; round < 20; round += 1) {
      const messages = await drainQueue(sqs.sqs, queues.queueUrl, { atLeast: retrying });
      if (messages.length === 0) return;
      const records = messages.map((message) =>
        toSqsRecord(message, { queueArn: queues.queueArn, region: LOCAL_CLIENT_CONFIG.region }),
      );
      const response = await handler(sqsEvent(records));
      const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      retrying = failed.size;
      for (const record of records.filter((candidate) => !failed.has(candidate.messageId))) {
        await sqs.sqs.send(
          new DeleteMessageCommand({
            QueueUrl: queues.queueUrl,
            ReceiptHandle: record.receiptHandle,
          }),
        );
      }
    }
    throw new Error('the export queue did not empty in 20 rounds');
  }

  async function exportItems(projectId: string): Promise<ExportArchiveItem[]> {
    const { Items = [] } = await dynamoDb.documents.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': projectPartition(projectId),
          ':prefix': EXPORT_SORT_PREFIX,
        },
        ConsistentRead: true,
      }),
    );
    return Items as ExportArchiveItem[];
  }

  async function objects(): Promise<string[]> {
    const { Contents = [] } = await s3.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return Contents.map((object) => String(object.Key));
  }

  async function object(key: string): Promise<Buffer> {
    const answer = await s3.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await (answer.Body?.transformToByteArray() ?? new Uint8Array()));
  }

  /** The schedule's resume check, with the credentials as the exporter reads them. */
  const resume = () =>
    resumeWaitingExports({
      documents: limitedToPartitions(dynamoDb.documents, EXPORTER_ITEM_PARTITIONS),
      tableName,
      queue: createExportQueue(sdkQueueSender(sqs.sqs), queues.queueUrl),
      credentials: () =>
        checkCredentials(
          fake.url,
          options.credentials ??
            (async () => ({ clientId: fake.clientId, clientSecret: fake.clientSecret })),
          { sleep: async () => {} },
        ),
    });

  return {
    resume,
    queries: createQueries(dynamoDb.documents, tableName),
    deliver: (...deliveries: Delivery[]) => worker(sqsEvent(deliveries.map(sqsRecord))),
    runExports,
    exportItems,
    objects,
    object,
    logger,
    datasaur,
    queues,
    metrics,
    tableName,
  };
}

const exportRequests = () => fake.counts.graphql.ExportTextProjectQuery ?? 0;

/** Every item of a test table. */
async function tableItems(tableName: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await dynamoDb.documents.send(
    new ScanCommand({ TableName: tableName, ConsistentRead: true }),
  );
  return Items;
}

describe('export archiving', () => {
  it('archives a reviewed project: the zip in the bucket, bytes and sha256 equal, an ARCHIVED item', async () => {
    const pipeline = await exportPipeline();
    const projectId = newProject();
    const response = await pipeline.deliver(
      statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'),
    );
    expect(response.batchItemFailures).toEqual([]);
    await pipeline.runExports();

    const [item] = await pipeline.exportItems(projectId);
    const key = `exports/7/${projectId}/REVIEWED/2026-11-30T05-00-00.000Z.zip`;
    expect(await pipeline.objects()).toEqual([key]);
    const file = await pipeline.object(key);
    const exported = [...fake.exports.values()].find((one) => one.projectIds[0] === projectId);
    expect(file.equals(exported?.file ?? Buffer.alloc(0))).toBe(true);
    expect(exported).toMatchObject({ role: 'REVIEWER', format: 'json_advanced' });
    expect(item).toMatchObject({
      itemType: 'exportArchive',
      status: 'ARCHIVED',
      trigger: 'REVIEWED',
      projectId,
      teamId: '7',
      statusAt: '2026-11-30T05:00:00.000Z',
      exportId: exported?.exportId,
      format: 'json_advanced',
      key,
      bytes: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
      requestedAt: expect.any(String),
      archivedAt: expect.any(String),
    });
    expect(item?.claimedBy).toBeUndefined();
    // The pre-signed link is a credential: gone once the export no longer needs it.
    expect(item).not.toHaveProperty('fileUrl');
    expect(item).not.toHaveProperty('reasonCode');
    // Datasaur's status went QUEUED → IN_PROGRESS → DELIVERED, and the file answered 404 twice.
    expect(exported).toMatchObject({ polls: 3, fileRequests: 3 });
    expect(fake.invalidDocuments).toEqual([]);

    // What `npm run query -- exports` and `query project` show.
    const byProject = await pipeline.queries.exports({ projectId });
    const byTeam = await pipeline.queries.exports({ teamId: '7', status: 'ARCHIVED' });
    expect(byProject.items).toEqual([expect.objectContaining({ key, status: 'ARCHIVED' })]);
    expect(byProject.items[0]).not.toHaveProperty('fileUrl');
    expect(byTeam.items.map((view) => view.key)).toEqual([key]);
    expect((await pipeline.queries.exports({ teamId: '8' })).items).toEqual([]);
    expect(await pipeline.queries.project(projectId)).toMatchObject({
      latestExport: { key, bytes: file.length, sha256: item?.sha256 },
    });
  });

  it("publishes Export Archived once, with the archived file's figures, on the local bus", async () => {
    const pipeline = await exportPipeline();
    const projectId = newProject();
    eventBus.clear();
    const review = statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:30:00.000Z');
    await pipeline.deliver(review, review);
    await pipeline.runExports();

    const [item] = await pipeline.exportItems(projectId);
    const published = eventBus
      .events()
      .filter((event) => event['detail-type'] === 'Export Archived');
    expect(published).toHaveLength(1);
    expect(published[0]?.detail).toMatchObject({
      version: 1,
      projectId,
      teamId: '7',
      status: 'REVIEWED',
      statusAt: '2026-11-30T05:30:00.000Z',
      exportId: item?.exportId,
      key: item?.key,
      bytes: item?.bytes,
      sha256: item?.sha256,
      format: 'json_advanced',
      archivedAt: item?.archivedAt,
      item: { pk: item?.pk, sk: item?.sk },
    });
  });

  it('exports once for the same PROJECT_REVIEWED delivered 3× and out of order', async () => {
    const pipeline = await exportPipeline();
    const projectId = newProject();
    const reviewed = statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:10:00.000Z');
    const completed = statusEvent('PROJECT_COMPLETED', projectId, '2026-11-30T05:05:00.000Z');
    const before = exportRequests();
    await pipeline.deliver(reviewed, completed);
    await pipeline.deliver(reviewed);
    await pipeline.deliver(statusEvent('PROJECT_CREATED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.deliver(reviewed);
    await pipeline.runExports();

    expect(exportRequests() - before).toBe(1);
    expect(await pipeline.objects()).toHaveLength(1);
    expect((await pipeline.exportItems(projectId)).map((item) => item.status)).toEqual([
      'ARCHIVED',
    ]);
    expect(
      pipeline.logger.lines.filter((line) => line.message === 'export already handled'),
    ).toHaveLength(2);
  });

  it('exports again after a later re-review, and on COMPLETED too with exportOn=both', async () => {
    const pipeline = await exportPipeline({ exportOn: 'both' });
    const projectId = newProject();
    await pipeline.deliver(
      statusEvent('PROJECT_COMPLETED', projectId, '2026-11-30T05:00:00.000Z'),
      statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:01:00.000Z'),
      statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:30:00.000Z'),
    );
    await pipeline.runExports();
    expect((await pipeline.objects()).sort()).toEqual([
      `exports/7/${projectId}/COMPLETED/2026-11-30T05-00-00.000Z.zip`,
      `exports/7/${projectId}/REVIEWED/2026-11-30T05-01-00.000Z.zip`,
      `exports/7/${projectId}/REVIEWED/2026-11-30T05-30-00.000Z.zip`,
    ]);
    const completed = [...fake.exports.values()].find(
      (one) => one.projectIds[0] === projectId && one.role === 'LABELER',
    );
    expect(completed).toBeDefined();
  });

  it('exports nothing with exportOn=off, and stores a pushed delivery without its link', async () => {
    const pipeline = await exportPipeline({ exportOn: 'off' });
    const projectId = newProject();
    const before = exportRequests();
    const pushed = {
      body: JSON.stringify({ userId: 3, fileUrl: 'https://exports.example.com/f.zip', projectId }),
      method: 'PUT' as const,
      receivedAt: '2026-11-30T05:01:00.000Z',
    };
    await pipeline.deliver(
      statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'),
      pushed,
    );
    expect(await drainQueue(sqs.sqs, pipeline.queues.queueUrl)).toEqual([]);
    expect(exportRequests() - before).toBe(0);
    expect(await pipeline.exportItems(projectId)).toEqual([]);
    expect(await pipeline.objects()).toEqual([]);
    // No export will ever read the link: it is not kept.
    const event = await pipeline.queries.event(eventIdOf(pushed.body));
    expect(event).toMatchObject({
      data: { userId: '3', projectId },
      fileUrlRemovedAt: pushed.receivedAt,
      fileUrlRemovedBecause: 'EXPORTS_OFF',
    });
    expect(event?.data).not.toHaveProperty('fileUrl');
  });

  it('copies an export Datasaur pushed (PUT with fileUrl) into the bucket', async () => {
    const pipeline = await exportPipeline();
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_CREATED', projectId, '2026-11-30T04:00:00.000Z'));
    // Datasaur's link: an export the fake made, as if it had delivered it to our webhook.
    const pushed = await exportTextProject(pipeline.datasaur, {
      projectIds: [projectId],
      fileName: 'pushed',
      format: 'json',
      method: 'FILE_STORAGE',
    });
    const receivedAt = '2026-11-30T05:20:00.000Z';
    await pipeline.deliver({
      body: JSON.stringify({ userId: 1, fileUrl: pushed.fileUrl, projectId }),
      method: 'PUT',
      receivedAt,
    });
    await pipeline.runExports();

    const key = `exports/7/${projectId}/PUSHED/${receivedAt.replaceAll(':', '-')}.zip`;
    expect(await pipeline.objects()).toEqual([key]);
    const file = await pipeline.object(key);
    expect(file.equals(fake.exports.get(String(pushed.exportId))?.file ?? Buffer.alloc(0))).toBe(
      true,
    );
    expect(await pipeline.exportItems(projectId)).toEqual([
      expect.objectContaining({ status: 'ARCHIVED', trigger: 'PUSHED', bytes: file.length }),
    ]);
  });

  it('records FAILED LINK_EXPIRED at once when a pushed link answers 403 past the expiry it was signed with', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 3 });
    const [expiredProject, validProject] = [newProject(), newProject()];
    const pushedLink = async (projectId: string, signedAt: string) => {
      const pushed = await exportTextProject(pipeline.datasaur, {
        projectIds: [projectId],
        fileName: 'pushed',
        format: 'json',
        method: 'FILE_STORAGE',
      });
      // Datasaur's links are S3's, pre-signed for 6 hours.
      return `${pushed.fileUrl}?X-Amz-Date=${signedAt}&X-Amz-Expires=21600&X-Amz-Signature=abc`;
    };
    const requestsBefore = fake.counts.fileRequests;
    await pipeline.deliver({
      body: JSON.stringify({
        userId: 1,
        fileUrl: await pushedLink(expiredProject, '20200101T000000Z'),
        projectId: expiredProject,
      }),
      method: 'PUT',
    });
    await pipeline.runExports();
    const [expired] = await pipeline.exportItems(expiredProject);
    expect(expired).toMatchObject({ status: 'FAILED', reasonCode: 'LINK_EXPIRED', attempts: 1 });
    expect(expired?.reason).toContain('expired at 2020-01-01T06:00:00.000Z (HTTP 403)');
    expect(fake.counts.fileRequests - requestsBefore).toBe(1);

    // A link signed just now is waited for while the file is not there, as any other.
    const now = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    await pipeline.deliver({
      body: JSON.stringify({
        userId: 1,
        fileUrl: await pushedLink(validProject, now),
        projectId: validProject,
      }),
      method: 'PUT',
    });
    await pipeline.runExports();
    expect(await pipeline.exportItems(validProject)).toEqual([
      expect.objectContaining({ status: 'ARCHIVED', trigger: 'PUSHED' }),
    ]);
    expect(await pipeline.objects()).toHaveLength(1);
  });

  it('removes the pushed link from the delivery event once its export is ARCHIVED or FAILED, and a redelivered PUT does not put it back', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 3 });
    const [archivedProject, failedProject] = [newProject(), newProject()];
    const pushed = await exportTextProject(pipeline.datasaur, {
      projectIds: [archivedProject],
      fileName: 'pushed',
      format: 'json',
      method: 'FILE_STORAGE',
    });
    const deliveries = [
      {
        body: JSON.stringify({ userId: 1, fileUrl: pushed.fileUrl, projectId: archivedProject }),
        method: 'PUT' as const,
        receivedAt: '2026-11-30T05:20:00.000Z',
      },
      {
        body: JSON.stringify({
          userId: 2,
          fileUrl: 'https://169.254.169.254/latest/meta-data/',
          projectId: failedProject,
        }),
        method: 'PUT' as const,
        receivedAt: '2026-11-30T05:21:00.000Z',
      },
    ];
    const [archivedEvent, failedEvent] = deliveries.map((delivery) => eventIdOf(delivery.body));
    await pipeline.deliver(...deliveries);
    // While the export may still need it, the link is on the item, as received.
    expect(await pipeline.queries.event(String(archivedEvent))).toMatchObject({
      data: { fileUrl: pushed.fileUrl },
    });
    await pipeline.runExports();

    const ended = [
      { eventId: archivedEvent, projectId: archivedProject, status: 'ARCHIVED', userId: '1' },
      { eventId: failedEvent, projectId: failedProject, status: 'FAILED', userId: '2' },
    ];
    const removedAt: Record<string, unknown> = {};
    for (const { eventId, projectId, status, userId } of ended) {
      expect((await pipeline.exportItems(projectId)).map((item) => item.status)).toEqual([status]);
      const event = await pipeline.queries.event(String(eventId));
      expect(event).toMatchObject({
        itemType: 'export',
        data: { userId, projectId },
        fileUrlRemovedAt: expect.any(String),
        fileUrlRemovedBecause: status,
      });
      expect(event?.data).not.toHaveProperty('fileUrl');
      removedAt[projectId] = event?.fileUrlRemovedAt;
    }

    // Datasaur delivers both again, later; an SQS redelivery of the first message too.
    await pipeline.deliver(
      ...deliveries.map((delivery) => ({ ...delivery, receivedAt: '2026-11-30T06:30:00.000Z' })),
    );
    await pipeline.deliver(deliveries[0] as Delivery);
    await pipeline.runExports();
    for (const { eventId, projectId, status } of ended) {
      expect((await pipeline.exportItems(projectId)).map((item) => item.status)).toEqual([status]);
      const event = await pipeline.queries.event(String(eventId));
      expect(event?.data).not.toHaveProperty('fileUrl');
      expect(event).toMatchObject({
        fileUrlRemovedAt: removedAt[projectId],
        fileUrlRemovedBecause: status,
      });
    }
    expect(await pipeline.objects()).toHaveLength(1);
    // Nothing the table holds has the links any more (a refusal's reason names the host only).
    const stored = JSON.stringify(await tableItems(pipeline.tableName));
    expect(stored).not.toContain(String(pushed.fileUrl));
    expect(stored).not.toContain('169.254.169.254/latest');
    // Nor did the exporter's logs, or anything this process printed.
    expect(pipeline.logger.lines.map((line) => line.message)).toContain('export failed');
    const logged = JSON.stringify(pipeline.logger.lines) + capturedOutput();
    expect(logged).not.toContain(String(pushed.fileUrl));
    expect(logged).not.toContain('169.254.169.254/latest');
  });

  it('removes the link when the redelivered request finds the export over, if the attempt that archived it died before removing it', async () => {
    // A client that fails the link's removal once: the fault of a Lambda that died between the
    // two writes, which no local server can produce.
    const light = localTable(dynamoDb.server.endpoint);
    let failures = 0;
    const documents: TableDocuments = {
      ...light,
      update: async (input) => {
        if (failures === 0 && input.UpdateExpression?.includes('fileUrlRemovedAt')) {
          failures += 1;
          throw new Error('injected: the attempt ended after writing ARCHIVED');
        }
        return light.update(input);
      },
    };
    const pipeline = await exportPipeline({ exporterDocuments: documents });
    const projectId = newProject();
    const pushed = await exportTextProject(pipeline.datasaur, {
      projectIds: [projectId],
      fileName: 'pushed',
      format: 'json',
      method: 'FILE_STORAGE',
    });
    const delivery = {
      body: JSON.stringify({ fileUrl: pushed.fileUrl, projectId }),
      method: 'PUT' as const,
    };
    await pipeline.deliver(delivery);
    await pipeline.runExports();

    expect(failures).toBe(1);
    expect((await pipeline.exportItems(projectId)).map((item) => item.status)).toEqual([
      'ARCHIVED',
    ]);
    expect(await pipeline.objects()).toHaveLength(1);
    const event = await pipeline.queries.event(eventIdOf(delivery.body));
    expect(event).toMatchObject({ fileUrlRemovedBecause: 'ARCHIVED' });
    expect(event?.data).not.toHaveProperty('fileUrl');
  });

  it('refuses a pushed link to an internal address: FAILED URL_REFUSED at once, nothing fetched, the delivery stored, the refusal counted', async () => {
    // An "internal" service on loopback, on another port than the (trusted) fake Datasaur.
    const hits: string[] = [];
    const internal: Server = createServer((request, response) => {
      hits.push(String(request.url));
      response.end('secret');
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    const { port } = internal.address() as AddressInfo;
    try {
      const pipeline = await exportPipeline({ maxAttempts: 3 });
      const refused = [
        `http://127.0.0.1:${port}/latest/meta-data/iam/security-credentials/`,
        `https://127.0.0.1:${port}/file.zip`,
        'https://169.254.169.254/latest/meta-data/',
        `https://[::ffff:127.0.0.1]:${port}/file.zip`,
        `https://localhost:${port}/file.zip`,
      ];
      const projects = refused.map(() => newProject());
      await pipeline.deliver(
        ...refused.map((fileUrl, index) => ({
          body: JSON.stringify({ fileUrl, projectId: projects[index] }),
          method: 'PUT' as const,
        })),
      );
      const lines = await metricsLinesOf(() => pipeline.runExports());

      expect(hits).toEqual([]);
      for (const projectId of projects) {
        const [item] = await pipeline.exportItems(projectId);
        expect(item).toMatchObject({ status: 'FAILED', reasonCode: 'URL_REFUSED', attempts: 1 });
        expect(item?.reason).toMatch(/refused/);
        // The delivery event itself is stored, and shown (scheme and host only) by the queries.
        expect(await pipeline.queries.project(projectId)).toMatchObject({
          lastExport: { at: expect.any(String) },
        });
      }
      const refusals = lines.filter((line) => line.ExportUrlsRefused !== undefined);
      expect(refusals.map((line) => line.ExportUrlsRefused)).toEqual(refused.map(() => 1));
      expect(await pipeline.objects()).toEqual([]);
    } finally {
      await new Promise((resolve) => internal.close(resolve));
    }
  });

  it('records FAILED TOO_LARGE when the file passes the byte cap, leaving nothing in the bucket', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 3, maxBytes: 100 });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'FAILED', reasonCode: 'TOO_LARGE', attempts: 1 });
    expect(item?.reason).toContain('byte cap of 100 bytes');
    expect(item).not.toHaveProperty('fileUrl');
    expect(await pipeline.objects()).toEqual([]);
  });

  it('retries a GraphQL error through the queue, then records FAILED with the reason and logs it for the alarm', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 3 });
    const projectId = newProject();
    const before = exportRequests();
    fake.faults.graphqlError('ExportTextProjectQuery', 'Export quota exceeded', 3);
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();

    expect(exportRequests() - before).toBe(3);
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'FAILED', attempts: 3, failedAt: expect.any(String) });
    expect(item?.reason).toContain('Export quota exceeded');
    expect(item?.reasonCode).toBe('DATASAUR_UNAVAILABLE');
    expect(await pipeline.objects()).toEqual([]);
    const retries = pipeline.logger.lines.filter(
      (line) => line.message === 'export not finished, will retry',
    );
    expect(retries).toHaveLength(2);
    expect(pipeline.logger.lines.filter((line) => line.message === 'export failed')).toEqual([
      expect.objectContaining({ level: 'error' }),
    ]);
  });

  it('recovers from one GraphQL error: the retry archives the file', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 3 });
    const projectId = newProject();
    fake.faults.graphqlError('GetExportDeliveryStatus', 'temporarily unavailable', 1);
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'ARCHIVED', attempts: 2 });
  });

  it('records FAILED when the file never becomes ready, leaving nothing in the bucket', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 2 });
    const projectId = newProject();
    fake.faults.fileNotFound(Number.POSITIVE_INFINITY);
    try {
      await pipeline.deliver(
        statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'),
      );
      await pipeline.runExports();
    } finally {
      fake.faults.fileNotFound(2);
    }
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(item?.reason).toMatch(/the file was not ready \(HTTP 404 \d+ times\)/);
    expect(item?.reasonCode).toBe('FILE_NOT_READY');
    expect(await pipeline.objects()).toEqual([]);
  });

  it('fetches the file when Datasaur tracks no delivery for the export (NONE), waiting while it is not there', async () => {
    const pipeline = await exportPipeline();
    const projectId = newProject();
    const polled = () => fake.counts.graphql.GetExportDeliveryStatus ?? 0;
    const pollsBefore = polled();
    fake.faults.untrackedDeliveries(true);
    try {
      await pipeline.deliver(
        statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'),
      );
      await pipeline.runExports();
    } finally {
      fake.faults.untrackedDeliveries(false);
    }
    const [item] = await pipeline.exportItems(projectId);
    const exported = [...fake.exports.values()].find((one) => one.projectIds[0] === projectId);
    expect(item).toMatchObject({ status: 'ARCHIVED', attempts: 1, exportId: exported?.exportId });
    // One status poll (NONE), then the link: 404 twice, then the zip.
    expect(polled() - pollsBefore).toBe(1);
    expect(exported).toMatchObject({ fileRequests: 3 });
    expect((await pipeline.object(item?.key as string)).equals(exported?.file as Buffer)).toBe(
      true,
    );
  });

  it('records FAILED at once when Datasaur reports the export FAILED', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 3 });
    const projectId = newProject();
    fake.faults.failExports('labels could not be serialized');
    try {
      await pipeline.deliver(
        statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'),
      );
      await pipeline.runExports();
    } finally {
      fake.faults.failExports(undefined);
    }
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(item?.reason).toContain('labels could not be serialized');
    expect(item?.reasonCode).toBe('DATASAUR_FAILED');
  });

  it('reuses one token across exports and fetches a new one after an authentication error', async () => {
    const pipeline = await exportPipeline();
    const first = newProject();
    const second = newProject();
    const before = fake.counts.tokens;
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', first, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', second, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    expect(fake.counts.tokens - before).toBe(1);

    fake.faults.expireTokens();
    const third = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', third, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    expect(fake.counts.tokens - before).toBe(2);
    expect((await pipeline.exportItems(third)).map((item) => item.status)).toEqual(['ARCHIVED']);
  });

  it('records status exports WAITING CREDENTIALS_MISSING while the secret is empty, copies pushed ones, and the resume check archives them once credentials appear', async () => {
    let secret: DatasaurCredentials | undefined;
    const pipeline = await exportPipeline({
      credentials: async () => {
        if (secret === undefined) throw new CredentialsMissingError('the secret is empty');
        return secret;
      },
    });
    const projectId = newProject();
    const pushed = await exportTextProject(
      createDatasaurClient({
        baseUrl: fake.url,
        credentials: { clientId: fake.clientId, clientSecret: fake.clientSecret },
      }),
      { projectIds: [projectId], fileName: 'pushed', format: 'json', method: 'FILE_STORAGE' },
    );
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'), {
      body: JSON.stringify({ fileUrl: pushed.fileUrl, projectId }),
      method: 'PUT',
    });
    await pipeline.runExports();
    const byTrigger = async () =>
      Object.fromEntries(
        (await pipeline.exportItems(projectId)).map((item) => [item.trigger, item]),
      );
    expect((await byTrigger()).PUSHED).toMatchObject({ status: 'ARCHIVED' });
    expect((await byTrigger()).REVIEWED).toMatchObject({
      status: 'WAITING',
      reasonCode: 'CREDENTIALS_MISSING',
      attempts: 0,
    });
    expect((await byTrigger()).REVIEWED).not.toHaveProperty('claimedBy');
    // What `npm run query -- exports --status WAITING` lists.
    const waiting = await pipeline.queries.exports({ status: 'WAITING' });
    expect(waiting.items.map((view) => view.projectId)).toEqual([projectId]);

    // The schedule invokes the exporter with its resume event while the secret is still
    // empty: nothing is queued, and the count the exports-waiting alarm watches is emitted.
    const scheduled = createResumeHandler({
      resume: pipeline.resume,
      logger: pipeline.logger as unknown as Logger,
      metrics: pipeline.metrics,
    });
    expect(isResumeEvent(RESUME_EVENT)).toBe(true);
    expect(isResumeEvent(sqsEvent([]))).toBe(false);
    let result: unknown;
    const lines = await metricsLinesOf(async () => {
      result = await scheduled();
    });
    expect(result).toEqual({ waiting: 1, queued: 0, credentials: 'CREDENTIALS_MISSING' });
    expect(lines).toEqual([
      expect.objectContaining({ [EXPORTS_WAITING_METRIC]: 1, service: 'exporter-test' }),
    ]);
    secret = { clientId: fake.clientId, clientSecret: fake.clientSecret };
    expect(await pipeline.resume()).toEqual({ waiting: 1, queued: 1, credentials: 'VALID' });
    await pipeline.runExports();
    expect((await byTrigger()).REVIEWED).toMatchObject({ status: 'ARCHIVED', attempts: 1 });
    expect((await byTrigger()).REVIEWED).not.toHaveProperty('reasonCode');
    expect(await pipeline.resume()).toMatchObject({ waiting: 0, queued: 0 });
  });

  it.each([
    ['is not JSON', 'clientId=abc clientSecret=0123456789abcdefgh', 'must be JSON'],
    [
      'has a clientSecret of 10 characters',
      '{"clientId": "abc", "clientSecret": "0123456789"}',
      'is 10 characters long',
    ],
  ])(
    'records WAITING CREDENTIALS_INVALID when the secret %s, and resumes once it is corrected',
    async (_case, malformed, reason) => {
      let secretValue = malformed;
      const pipeline = await exportPipeline({
        credentials: async () => parseDatasaurCredentials(secretValue),
      });
      const projectId = newProject();
      await pipeline.deliver(
        statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'),
      );
      await pipeline.runExports();
      const [waiting] = await pipeline.exportItems(projectId);
      // Not an attempt, not a Datasaur outage: it waits for the secret, as an empty one does.
      expect(waiting).toMatchObject({ status: 'WAITING', reasonCode: 'CREDENTIALS_INVALID' });
      expect(waiting?.reason).toContain(reason);
      expect(await pipeline.resume()).toEqual({
        waiting: 1,
        queued: 0,
        credentials: 'CREDENTIALS_INVALID',
      });
      secretValue = JSON.stringify({ clientId: fake.clientId, clientSecret: fake.clientSecret });
      expect(await pipeline.resume()).toMatchObject({ queued: 1, credentials: 'VALID' });
      await pipeline.runExports();
      expect((await pipeline.exportItems(projectId))[0]).toMatchObject({ status: 'ARCHIVED' });
    },
  );

  it('still emits the waiting count when the credentials cannot be checked (token endpoint down)', async () => {
    const pipeline = await exportPipeline({
      credentials: async () => ({ clientId: fake.clientId, clientSecret: 'not-the-secret-0123' }),
    });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    expect((await pipeline.exportItems(projectId))[0]).toMatchObject({ status: 'WAITING' });
    const scheduled = createResumeHandler({
      resume: pipeline.resume,
      logger: pipeline.logger as unknown as Logger,
      metrics: pipeline.metrics,
    });
    // Every attempt of the one check answers 503: no fault is left for the next test.
    fake.faults.tokenStatus(503, DEFAULT_HTTP_SETTINGS.maxAttempts);
    let result: unknown;
    const lines = await metricsLinesOf(async () => {
      result = await scheduled();
    });
    expect(result).toMatchObject({ waiting: 1, queued: 0, credentials: 'UNAVAILABLE' });
    expect(String((result as { problem?: string }).problem)).toContain('503');
    // The alarm keeps its data: missing data would read as "not breaching".
    expect(lines).toEqual([expect.objectContaining({ [EXPORTS_WAITING_METRIC]: 1 })]);
    expect(
      pipeline.logger.lines.some(
        (line) =>
          line.message === 'could not check the Datasaur credentials: exports still waiting',
      ),
    ).toBe(true);
  });

  it('records WAITING CREDENTIALS_INVALID when the token endpoint refuses the credentials, and resumes once they are corrected', async () => {
    let secret: DatasaurCredentials = { clientId: fake.clientId, clientSecret: 'not-the-secret' };
    const pipeline = await exportPipeline({ credentials: async () => secret });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    const [waiting] = await pipeline.exportItems(projectId);
    expect(waiting).toMatchObject({ status: 'WAITING', reasonCode: 'CREDENTIALS_INVALID' });
    expect(waiting?.reason).toContain('HTTP 401');
    expect(await pipeline.resume()).toMatchObject({
      queued: 0,
      credentials: 'CREDENTIALS_INVALID',
    });
    secret = { clientId: fake.clientId, clientSecret: fake.clientSecret };
    expect(await pipeline.resume()).toMatchObject({ queued: 1, credentials: 'VALID' });
    await pipeline.runExports();
    expect((await pipeline.exportItems(projectId))[0]).toMatchObject({ status: 'ARCHIVED' });
  });

  it('treats a token endpoint outage (HTTP 503) as an outage: retried, then FAILED DATASAUR_UNAVAILABLE, never WAITING', async () => {
    const pipeline = await exportPipeline({ maxAttempts: 2 });
    const projectId = newProject();
    const tokensBefore = fake.counts.tokens;
    // 2 attempts, each making 3 token requests (the HTTP client's own retries).
    fake.faults.tokenStatus(503, 6);
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    expect(fake.counts.tokens - tokensBefore).toBe(6);
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({
      status: 'FAILED',
      reasonCode: 'DATASAUR_UNAVAILABLE',
      attempts: 2,
    });
    expect(item?.reason).toContain('HTTP 503');
  });
});

describe('large and slow export files', () => {
  const MIB = 1024 * 1024;
  afterAll(() => fake.deliverFiles({}));

  it('archives a 12 MB file that trickles for longer than the stall timeout, multipart: only a gap with no bytes would fail it', async () => {
    // 64 KiB every 10 ms: ~190 chunks, ≥ 1.9 s of sending (the server's pace), against a
    // stall timeout of 1 s. A single 1 s timeout over the whole download (the old design)
    // fails the same file: the next test.
    fake.deliverFiles({ fileBytes: 12 * 1000 * 1000, chunkBytes: 64 * 1024, chunkIntervalMs: 10 });
    const s3Operations: string[] = [];
    const pipeline = await exportPipeline({ stallTimeoutMs: 1000, s3Operations });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    fake.deliverFiles({});
    const [item] = await pipeline.exportItems(projectId);
    const exported = [...fake.exports.values()].find((one) => one.projectIds[0] === projectId);
    const file = exported?.file ?? Buffer.alloc(0);
    expect(file.length).toBeGreaterThan(12 * 1000 * 1000);
    expect(item).toMatchObject({
      status: 'ARCHIVED',
      attempts: 1,
      bytes: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
    });
    expect((await pipeline.object(item?.key ?? '')).equals(file)).toBe(true);
    // Past 5 MiB: a multipart upload, completed.
    expect(s3Operations).toContain('CreateMultipartUpload');
    expect(s3Operations.filter((name) => name === 'UploadPart').length).toBeGreaterThan(
      Math.floor(file.length / (5 * MIB)) - 1,
    );
    expect(s3Operations).toContain('CompleteMultipartUpload');
  });

  it('fails the same trickle under one overall limit shorter than the transfer (the old single timeout): FAILED DEADLINE, nothing left', async () => {
    fake.deliverFiles({ fileBytes: 12 * 1000 * 1000, chunkBytes: 64 * 1024, chunkIntervalMs: 10 });
    const s3Operations: string[] = [];
    const pipeline = await exportPipeline({
      maxAttempts: 1,
      stallTimeoutMs: 1000,
      // 6 s of the exporter's virtual clock go on waits (status polls 1 s + 2 s, the file's
      // two 404s 1 s + 2 s): 1 s is left for the download itself, as one overall limit.
      attemptMs: 7000,
      s3Operations,
    });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    fake.deliverFiles({});
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'FAILED', reasonCode: 'DEADLINE' });
    expect(await pipeline.objects()).toEqual([]);
    expect(s3Operations).not.toContain('CompleteMultipartUpload');
    expect(s3Operations.filter((name) => name === 'AbortMultipartUpload').length).toBe(
      s3Operations.filter((name) => name === 'CreateMultipartUpload').length,
    );
  });

  it('records why the bucket refused a large file (ARCHIVE_WRITE_FAILED, the S3 error), not the download it stopped', async () => {
    // Larger than the upload reads ahead (4 parts of 5 MiB): the refused part stops a
    // download still under way, whose AbortError used to be recorded instead.
    fake.deliverFiles({ fileBytes: 40 * 1000 * 1000 });
    let parts = 0;
    const s3Operations: string[] = [];
    const pipeline = await exportPipeline({
      maxAttempts: 1,
      s3Operations,
      refuseS3: (name) => name === 'UploadPart' && ++parts === 2,
    });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    fake.deliverFiles({});
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'FAILED', reasonCode: 'ARCHIVE_WRITE_FAILED' });
    // The part's refusal, not the abort s3rver does not support (405), nor the download it stopped.
    expect(item?.reason).toBe(
      'the archive bucket refused the file: AccessDenied: Access Denied (attempt 1)',
    );
    expect(await pipeline.objects()).toEqual([]);
    expect(s3Operations).toContain('AbortMultipartUpload');
  });

  it('aborts the multipart upload of a file whose connection breaks half-way, and the retry archives it whole', async () => {
    fake.deliverFiles({ fileBytes: 12 * 1000 * 1000 });
    fake.faults.breakFiles(1);
    const s3Operations: string[] = [];
    const pipeline = await exportPipeline({ maxAttempts: 3, s3Operations });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    fake.deliverFiles({});
    const [item] = await pipeline.exportItems(projectId);
    const exported = [...fake.exports.values()].find((one) => one.projectIds[0] === projectId);
    expect(item).toMatchObject({
      status: 'ARCHIVED',
      attempts: 2,
      sha256: createHash('sha256')
        .update(exported?.file ?? Buffer.alloc(0))
        .digest('hex'),
    });
    expect(await pipeline.objects()).toEqual([item?.key]);
    // The first attempt's multipart upload was aborted, not completed: one Create each,
    // one Abort, one Complete.
    expect(s3Operations.filter((name) => name === 'CreateMultipartUpload')).toHaveLength(2);
    expect(s3Operations.filter((name) => name === 'AbortMultipartUpload')).toHaveLength(1);
    expect(s3Operations.filter((name) => name === 'CompleteMultipartUpload')).toHaveLength(1);
    const retry = pipeline.logger.lines.find(
      (line) => line.message === 'export not finished, will retry',
    );
    expect(String(retry?.attributes.reason)).toMatch(/aborted|ECONNRESET|socket hang up/);
  });

  it('records FAILED DOWNLOAD_STALLED when the file stops arriving, leaving no object', async () => {
    fake.deliverFiles({ fileBytes: 200_000 });
    fake.faults.stallFiles(1);
    const pipeline = await exportPipeline({ maxAttempts: 1, stallTimeoutMs: 300 });
    const projectId = newProject();
    await pipeline.deliver(statusEvent('PROJECT_REVIEWED', projectId, '2026-11-30T05:00:00.000Z'));
    await pipeline.runExports();
    fake.deliverFiles({});
    const [item] = await pipeline.exportItems(projectId);
    expect(item).toMatchObject({ status: 'FAILED', reasonCode: 'DOWNLOAD_STALLED' });
    expect(item?.reason).toContain('no bytes arrived for 0.3 s');
    expect(await pipeline.objects()).toEqual([]);
  });
});

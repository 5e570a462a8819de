/**
 * What one event costs in the table and the archive, counted from what the real code does
 * against an in-memory dynalite and a temporary s3rver: the Puts it makes (write units by
 * AWS's rules, the same accounting as the worker's tests), the items it reads (read units),
 * the bytes it adds to storage, and the S3 requests of a claim-checked body.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createEventStore } from '../../shared/store/event-store.ts';
import { sdkTableDocuments } from '../../shared/store/sdk-table-documents.ts';
import { INDEXES } from '../../shared/store/table.ts';
import type { TableDocuments } from '../../shared/store/table-documents.ts';
import {
  type Item,
  type ItemWrite,
  indexEntry,
  itemSize,
  totalWriteUnits,
} from '../../shared/store/write-units.ts';
import { s3BodyReader, s3BodyWriter } from '../../shared/webhook/body-archive.ts';
import type { BodyReader, BodyWriter } from '../../shared/webhook/claim-check.ts';
import { interpretMessage } from '../../shared/webhook/interpret.ts';
import { paddedLabelBody } from '../local/datasaur-sender.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../local/seed-events.ts';
import {
  ensureBucket,
  ensureTable,
  LOCAL_CLIENT_CONFIG,
  localDynamoDb,
  localS3,
  startDynalite,
  startS3,
} from '../local/servers.ts';
import { claimCheckedSqsRecord, type Delivery } from '../local/sqs-records.ts';
import { projectLifecycles } from '../local/workload.ts';
import type { EventFootprint } from './model.ts';

/** DynamoDB bills each stored item, and each index entry, 100 bytes above its size. */
const STORAGE_OVERHEAD_BYTES = 100;
/** A read unit is one strongly consistent read of up to 4 KB (the event store reads consistently). */
const READ_UNIT_BYTES = 4 * 1024;

export interface MeasuredFootprint extends EventFootprint {
  readonly itemType: string;
  readonly bodyBytes: number;
}

export interface MeteredEventStore {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The archive bucket's bodies, for handlers measured beside the store. */
  readonly bodies: BodyWriter & BodyReader;
  /** Records one delivery through the real event store and counts what it cost. */
  record(delivery: Delivery): Promise<MeasuredFootprint>;
  close(): Promise<void>;
}

export async function startMeteredEventStore(): Promise<MeteredEventStore> {
  const s3Directory = mkdtempSync(join(tmpdir(), 'datasaur-webhooks-cost-'));
  const s3Server = await startS3({ directory: s3Directory });
  const s3 = localS3(s3Server.endpoint);
  // As long as the name CloudFormation gives the archive bucket: the item stores it.
  const bucket = 'datasaurwebhooks-archivebucket49f1ac64-1a2b3c4d5e6f';
  await ensureBucket(s3, bucket);
  let s3Puts = 0;
  let s3Gets = 0;
  const writer = s3BodyWriter(s3, bucket);
  const reader = s3BodyReader(s3);
  const bodies: BodyWriter & BodyReader = {
    put: (key, body) => {
      s3Puts += 1;
      return writer.put(key, body);
    },
    get: (object) => {
      s3Gets += 1;
      return reader.get(object);
    },
  };
  const server = await startDynalite();
  const documents = localDynamoDb(server.endpoint);
  const tableName = 'footprints';
  const tables = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint: server.endpoint });
  await ensureTable(tables, tableName);
  tables.destroy();
  let readUnits = 0;
  // Counting here sees every item the event store reads.
  const table = sdkTableDocuments(documents);
  const metered: TableDocuments = {
    ...table,
    query: async (input) => {
      const output = await table.query(input);
      const items = (output.Items ?? []) as Item[];
      readUnits += readUnitsOf(items.reduce((sum, item) => sum + itemSize(item), 0));
      return output;
    },
    get: async (input) => {
      const output = await table.get(input);
      readUnits += readUnitsOf(output.Item === undefined ? 0 : itemSize(output.Item));
      return output;
    },
  };
  const store = createEventStore(metered, tableName);
  return {
    documents,
    tableName,
    bodies,
    async record(delivery) {
      readUnits = 0;
      s3Puts = 0;
      s3Gets = 0;
      const record = await claimCheckedSqsRecord(delivery, bodies);
      const message = await interpretMessage(
        record.body,
        new Date(Number(record.attributes.SentTimestamp)),
        bodies,
      );
      const recorded = await store.record(message);
      return {
        itemType: recorded.item.itemType,
        bodyBytes: Buffer.byteLength(delivery.body),
        messageBytes: Buffer.byteLength(record.body),
        writeUnits: totalWriteUnits(recorded.writes),
        readUnits,
        storedBytes: recorded.writes.reduce((sum, write) => sum + storedBytesAdded(write), 0),
        s3Puts,
        s3Gets,
        archivedBytes: message.bodyObject?.size ?? 0,
      };
    },
    async close() {
      documents.destroy();
      await server.close();
      s3.destroy();
      await s3Server.close();
      rmSync(s3Directory, { recursive: true, force: true });
    },
  };
}

function readUnitsOf(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
}

/** The item and each of its index entries, with DynamoDB's per-item overhead. */
function storedBytes(item: Item): number {
  let bytes = itemSize(item) + STORAGE_OVERHEAD_BYTES;
  for (const index of INDEXES) {
    const entry = indexEntry(item, index);
    if (entry !== undefined) bytes += itemSize(entry) + STORAGE_OVERHEAD_BYTES;
  }
  return bytes;
}

function storedBytesAdded(write: ItemWrite): number {
  if (write.conditionFailed === true) return 0;
  return storedBytes(write.item) - (write.previous === undefined ? 0 : storedBytes(write.previous));
}

export interface SeedEventFootprint extends MeasuredFootprint {
  readonly eventType: string;
}

/**
 * The documented examples in a project's order, then a label event delivered twice: the
 * table the worker's write-unit test builds, with the same accounting.
 */
export async function seedEventFootprints(store: MeteredEventStore): Promise<SeedEventFootprint[]> {
  const post = (event: unknown): Delivery => ({ body: JSON.stringify(event) });
  const deliveries: Array<[string, Delivery]> = [
    ['PROJECT_CREATED', post(SEED_EVENTS.PROJECT_CREATED)],
    ['BEFORE_UPDATE_LABELS', post(SEED_EVENTS.BEFORE_UPDATE_LABELS)],
    ['PROJECT_COMPLETED', post(SEED_EVENTS.PROJECT_COMPLETED)],
    ['PROJECT_REVIEWED', post(SEED_EVENTS.PROJECT_REVIEWED)],
    ['EXPORT_DELIVERY', { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' }],
    ['BEFORE_UPDATE_LABELS (duplicate)', post(SEED_EVENTS.BEFORE_UPDATE_LABELS)],
  ];
  const footprints: SeedEventFootprint[] = [];
  for (const [eventType, delivery] of deliveries) {
    footprints.push({ eventType, ...(await store.record(delivery)) });
  }
  return footprints;
}

export interface EventMixFootprints {
  /** A BEFORE_UPDATE_LABELS event whose body is `labelBodyBytes` long (or its seed size if larger). */
  readonly label: EventFootprint;
  /** The average over a project's own events: CREATED, COMPLETED, export delivery, REVIEWED. */
  readonly project: EventFootprint;
}

/** Footprints of a whole project lifecycle from the workload generator, per kind of event. */
export async function eventMixFootprints(
  store: MeteredEventStore,
  options: { labelBodyBytes: number },
): Promise<EventMixFootprints> {
  const lifecycle = projectLifecycles({ projects: 1, labelEventsPerProject: 3, idPrefix: 'cost' });
  const label: MeasuredFootprint[] = [];
  const project: MeasuredFootprint[] = [];
  for (const event of lifecycle) {
    const isLabel = event.kind === 'BEFORE_UPDATE_LABELS';
    const body = isLabel ? paddedLabelBody(event.body, options.labelBodyBytes) : event.body;
    const footprint = await store.record({ body, method: event.method });
    (isLabel ? label : project).push(footprint);
  }
  return { label: average(label), project: average(project) };
}

function average(footprints: readonly EventFootprint[]): EventFootprint {
  const mean = (pick: (footprint: EventFootprint) => number) =>
    footprints.reduce((sum, footprint) => sum + pick(footprint), 0) / footprints.length;
  return {
    messageBytes: mean((footprint) => footprint.messageBytes),
    writeUnits: mean((footprint) => footprint.writeUnits),
    readUnits: mean((footprint) => footprint.readUnits),
    storedBytes: mean((footprint) => footprint.storedBytes),
    s3Puts: mean((footprint) => footprint.s3Puts),
    s3Gets: mean((footprint) => footprint.s3Gets),
    archivedBytes: mean((footprint) => footprint.archivedBytes),
  };
}

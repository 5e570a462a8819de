/**
 * The table's items as zod schemas, one per `itemType`, built from the event schemas the
 * worker validates bodies with (`data` is the body's data as received, checked by the same
 * validator; one exception: an export delivery loses `data.fileUrl` once its export is over). `npm run schemas` publishes them as JSON Schemas in `schemas/items/`; a test
 * keeps those files equal to what this module generates and validates real items with them.
 * Not imported by the functions: it documents and checks the table, it does not gate writes.
 */
import * as z from 'zod';
import { omit } from 'zod/mini';
import { exportDeliverySchema, webhookEventSchemas } from '../webhook/events.ts';
import type { Provenance } from '../webhook/interpret.ts';
import {
  EXPORT_EVENT_TYPE,
  EXPORT_REASON_CODES,
  EXPORT_STATUSES,
  LINK_REMOVAL_REASONS,
  RECONCILE_SOURCE,
} from './items.ts';

const text = z.string().min(1);
/** An ISO-8601 instant as stored (`toISOString()` form, so it sorts as text). */
const instant = z.iso.datetime();
const key = { pk: text, sk: text };
const feedKey = {
  gsi2pk: text.describe('The feed (GSI2) partition: FEED#<day of receipt>#<shard of the event id>'),
  gsi2sk: text.describe('The feed (GSI2) sort key: the receive time'),
};
/** What every event item says about itself. */
const eventBase = {
  ...key,
  ...feedKey,
  eventId: text.describe(
    'Hex SHA-256 of the raw body (the ingest answer, the logs and the bus carry it); GSI3 key',
  ),
  receivedAt: instant.describe('When the body was first received'),
};
const eventTime = instant.describe("The event's own time, data.timestamp");
const bodyObject = z
  .looseObject({ bucket: text, key: text, size: z.number().int(), sha256: text })
  .describe('Where the whole body is in the archive bucket (a body too large for an item)');
const expiresAt = z
  .number()
  .int()
  .describe('Epoch seconds after which DynamoDB TTL removes the item');
const person = z.looseObject({ id: z.string(), email: z.string().optional() });

const projectEventTypes = [
  webhookEventSchemas.PROJECT_CREATED(),
  webhookEventSchemas.PROJECT_COMPLETED(),
  webhookEventSchemas.PROJECT_REVIEWED(),
];
const projectEventType = z.enum(['PROJECT_CREATED', 'PROJECT_COMPLETED', 'PROJECT_REVIEWED']);
const labelData = webhookEventSchemas.BEFORE_UPDATE_LABELS().shape.data;
/** Set on a label item once its document's project is known (at write time, or filled in later). */
const projectLabelFields = {
  projectId: text.optional().describe("The document's project, learned from Datasaur's API"),
  gsi4pk: text
    .optional()
    .describe("GSI4 (a project's label events) partition: PROJECT#<projectId>"),
};

/** What an export delivery's item says whether or not it still has its link. */
const exportBase = {
  ...eventBase,
  itemType: z.literal('export'),
  eventType: z.literal(EXPORT_EVENT_TYPE),
  projectId: text,
  documentId: text.optional(),
};

/** What a label event's item says whether or not it keeps its label lists. */
const labelEventBase = {
  ...eventBase,
  itemType: z.literal('labelEvent'),
  eventType: z.literal('BEFORE_UPDATE_LABELS'),
  eventTime,
  documentId: text,
  teamId: text.optional(),
  ...projectLabelFields,
};

export const ITEM_SCHEMAS = {
  projectEvent: z
    .object({
      ...eventBase,
      itemType: z.literal('projectEvent'),
      eventType: projectEventType,
      eventTime,
      projectId: text,
      teamId: text,
      data: z.union(projectEventTypes.map((schema) => schema.shape.data)),
    })
    .describe(
      'A project webhook (PROJECT_CREATED, _COMPLETED, _REVIEWED), under PROJECT#<projectId>',
    ),
  syntheticStatusEvent: z
    .object({
      ...eventBase,
      itemType: z.literal('syntheticStatusEvent'),
      eventType: projectEventType,
      eventTime,
      source: z.literal(RECONCILE_SOURCE),
      projectId: text,
      teamId: text,
      data: z.looseObject({
        timestamp: instant,
        project: z.looseObject({ id: text }),
        team: z.looseObject({ id: text }),
      }),
      datasaurStatus: z.string(),
      timestampFrom: z.enum(['createdDate', 'updatedDate', 'completedDate', 'reconciledAt']),
    })
    .describe('A status change the reconciler found in Datasaur and no webhook delivered'),
  export: z
    .union([
      z.object({ ...exportBase, data: exportDeliverySchema() }),
      z.object({
        ...exportBase,
        data: omit(exportDeliverySchema(), { fileUrl: true }).register(z.globalRegistry, {
          description:
            "The body's data as received but for fileUrl, Datasaur's pre-signed link (a credential), removed once no export needs it",
        }),
        fileUrlRemovedAt: instant.describe('When data.fileUrl was removed'),
        fileUrlRemovedBecause: z
          .enum(LINK_REMOVAL_REASONS)
          .describe(
            'Why: its export ended (ARCHIVED, FAILED), or exports were off when it was stored (EXPORTS_OFF)',
          ),
      }),
    ])
    .describe('An export delivery (the PUT Datasaur sends), under PROJECT#<projectId>'),
  labelEvent: z
    .union([
      z.object({ ...labelEventBase, data: labelData }),
      z.object({
        ...labelEventBase,
        data: omit(labelData, { labelUpdateList: true }),
        labelCounts: z.object({ toUpsert: z.number().int(), toDelete: z.number().int() }),
        bodyObject,
      }),
    ])
    .describe(
      'A BEFORE_UPDATE_LABELS webhook, under DOCUMENT#<documentId>; a body too large for an item keeps its label counts and its place in the archive bucket instead of the label lists',
    ),
  unknownEvent: z
    .object({
      ...eventBase,
      itemType: z.literal('unknownEvent'),
      eventType: z.string(),
      eventTime: eventTime.optional(),
      projectId: text.optional(),
      documentId: text.optional(),
      teamId: text.optional(),
      payload: z.record(z.string(), z.unknown()).optional().describe('The whole parsed body'),
      bodyObject: bodyObject.optional(),
      expiresAt: expiresAt.optional(),
    })
    .describe(
      'A webhook of an event type this product does not know, kept whole under UNKNOWN#<day>',
    ),
  rejected: z
    .object({
      ...eventBase,
      itemType: z.literal('rejected'),
      reason: z.string(),
      provenance: z
        .enum(['webhook', 'queue'] satisfies Provenance[])
        .optional()
        .describe(
          'webhook: the body arrived signed (replayable); queue: a queue message that never passed the signature check. Absent on items stored before it was recorded',
        ),
      method: z.enum(['POST', 'PUT']).optional(),
      body: z
        .union([z.string(), z.instanceof(Uint8Array)])
        .optional()
        .describe('The raw body: a string when it is valid UTF-8, else binary'),
      bodyObject: bodyObject.optional(),
      expiresAt: expiresAt.optional(),
    })
    .describe(
      'A body that could not be interpreted or stored, with the reason, under REJECTED#<day>',
    ),
  project: z
    .object({
      ...key,
      itemType: z.literal('project'),
      projectId: text,
      name: z.string().optional(),
      tags: z.array(z.string()).optional(),
      teamId: z.string().optional(),
      teamName: z.string().optional(),
      status: z.enum(['CREATED', 'COMPLETED', 'REVIEWED']).optional(),
      statusAt: instant.optional(),
      source: z.literal(RECONCILE_SOURCE).optional(),
      createdAt: instant.optional(),
      completedAt: instant.optional(),
      completedBy: person.optional(),
      reviewedAt: instant.optional(),
      reviewedBy: person.optional(),
      lastEventAt: instant,
      lastExport: z
        .object({
          at: instant,
          documentId: z.string().optional(),
          userId: z.string().optional(),
        })
        .optional(),
      eventCount: z.number().int(),
      gsi1pk: text.optional(),
      gsi1sk: text.optional(),
    })
    .describe("A project, derived from its events; GSI1 lists a team's projects by status"),
  documentProject: z
    .object({
      ...key,
      itemType: z.literal('documentProject'),
      documentId: text,
      originId: text
        .optional()
        .describe(
          "The label event's document.originId: another labeler's copy of the document has its own id and the same originId",
        ),
      teamId: text.optional(),
      status: z.enum(['UNRESOLVED', 'FILLING', 'RESOLVED']),
      projectId: text.optional(),
      firstSeenAt: instant,
      resolvedAt: instant.optional(),
      attempts: z.number().int(),
      lastError: z.string().optional(),
      gsi1pk: text.optional(),
      gsi1sk: text.optional(),
    })
    .describe(
      "A document's project, under DOC#<documentId>: UNRESOLVED until the enrichment learns it, FILLING while earlier label items get it; GSI1 DOCS#PENDING lists those not RESOLVED by when they are due",
    ),
  projectLabelCounts: z
    .object({
      ...key,
      itemType: z.literal('projectLabelCounts'),
      projectId: text,
      documentCount: z.number().int(),
      labelEventCount: z.number().int(),
      countedAt: instant,
      newestLabel: text
        .optional()
        .describe("The sort key of the newest label event counted (GSI4's newest entry then)"),
      gsi1pk: text
        .optional()
        .describe(
          'LABELS#COUNTED: the projects the enrichment checks in turn for newer label events',
        ),
      gsi1sk: text.optional().describe('The project id'),
    })
    .describe(
      "A project's documents and label events, under PROJECT#<projectId> / LABELS: recounted from GSI4 by the enrichment",
    ),
  projectWalk: z
    .object({
      ...key,
      itemType: z.literal('projectWalk'),
      teamId: text
        .optional()
        .describe('The team walked (absent: every project the credentials see)'),
      cursor: text
        .optional()
        .describe(
          "The getProjects cursor of the page the walk is in (absent: the team's first page)",
        ),
      index: z.number().int().describe('The index in that page of the next project to read'),
      walkedAt: instant,
    })
    .describe(
      "Where the enrichment's walk through a team's projects stopped (ENRICH, WALK#TEAM#<teamId>): the next pass goes on from there",
    ),
  labelCountsCheck: z
    .object({
      ...key,
      itemType: z.literal('labelCountsCheck'),
      after: text.describe('The last project whose label counters were checked'),
      checkedAt: instant,
    })
    .describe(
      "Where the enrichment's check of projects' label counters is (ENRICH, COUNT_CHECK): the next pass checks the projects after it",
    ),
  exportArchive: z
    .object({
      ...key,
      itemType: z.literal('exportArchive'),
      projectId: text,
      teamId: text,
      trigger: z.enum(['REVIEWED', 'COMPLETED', 'PUSHED', 'MANUAL']),
      statusAt: instant,
      status: z.enum(EXPORT_STATUSES),
      reasonCode: z
        .enum(EXPORT_REASON_CODES)
        .optional()
        .describe('Why the export waits or failed: set with reason on WAITING and FAILED'),
      reason: z.string().optional(),
      requestedAt: instant,
      bucket: text,
      key: text,
      attempts: z.number().int(),
      gsi1pk: text,
      gsi1sk: text,
    })
    .catchall(z.unknown())
    .describe('An export archived (or being archived) in the bucket, one per project and trigger'),
  receipt: z
    .object({
      ...key,
      itemType: z.literal('receipt'),
      receivedAt: instant,
      eventTime: instant.optional(),
    })
    .describe('The first receipt of an event keyed by its receive time, under RECEIPT#<eventId>'),
  reconcileRun: z
    .object({
      ...key,
      itemType: z.literal('reconcileRun'),
      runId: text,
      startedAt: instant,
      finishedAt: instant,
      outcome: z.enum(['succeeded', 'failed']),
      dryRun: z.boolean(),
    })
    .catchall(z.unknown())
    .describe('One reconcile run, under RECONCILE'),
  migrationState: z
    .object({
      ...key,
      itemType: z.literal('migrationState'),
      version: z.number().int(),
      running: z
        .object({
          version: z.number().int(),
          after: z.record(z.string(), z.unknown()),
          scanned: z.number().int(),
          rewritten: z.number().int(),
        })
        .optional(),
      updatedAt: instant,
    })
    .describe('The version `npm run migrate` brought the table to (MIGRATION/VERSION)'),
  hourlyCounts: z
    .object({
      ...key,
      itemType: z.literal('hourlyCounts'),
      hour: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}T\d{2}$/)
        .describe('The UTC hour counted'),
    })
    .catchall(z.number().int())
    .describe(
      'Events stored in one UTC hour, one number per event type, on one of a few shards (COUNTS#<shard>, HOUR#<yyyy-mm-ddThh>): the console sums the shards',
    ),
  reconcileLease: z
    .object({
      ...key,
      itemType: z.literal('reconcileLease'),
      holder: text.describe('Who holds the lease (a run id, or npm run reconcile on a host)'),
      leaseUntil: z.number().int().describe('Epoch seconds the lease is held until'),
      expiresAt: expiresAt,
    })
    .describe('The reconciler single-flight lease (LEASE#RECONCILE, LEASE)'),
} as const;

export type ItemType = keyof typeof ITEM_SCHEMAS;

/** The JSON Schema of each item type, as `npm run schemas` writes it. */
export function itemJsonSchemas(): Record<ItemType, Record<string, unknown>> {
  const schemas: Partial<Record<ItemType, Record<string, unknown>>> = {};
  for (const [itemType, schema] of Object.entries(ITEM_SCHEMAS) as [ItemType, z.ZodType][]) {
    // Inputs of the event validators: ids may arrive as numbers, timestamps in any ISO form.
    const generated = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
    schemas[itemType] = { ...generated, $id: `${itemType}.schema.json`, title: itemType };
  }
  return schemas as Record<ItemType, Record<string, unknown>>;
}

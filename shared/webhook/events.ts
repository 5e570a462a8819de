/**
 * Datasaur's webhook events as zod schemas; the TypeScript types are inferred from them.
 * Every object is loose: Datasaur adds fields at any time, and older payloads lack some
 * (PROJECT_COMPLETED once carried `project.type` instead of `tags`).
 */
import * as z from 'zod';

/** Ids arrive as strings in events and as numbers in label items: keep them as strings. */
const id = z.union([z.string().min(1), z.number()]).transform(String);

/**
 * An ISO-8601 instant, normalized to `toISOString()` form so it sorts as text. Only years
 * 0000 to 9999: `Date.parse` accepts more, but their `toISOString()` form (`+010000-…`) is not
 * an ISO-8601 instant the keys, the bus schema or the export request accept.
 */
export const instant = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { message: 'not an ISO-8601 timestamp' })
  .transform((value) => new Date(value).toISOString())
  .refine((value) => /^\d{4}-/.test(value), {
    message: 'a timestamp outside the years 0000 to 9999',
  });

/**
 * Datasaur's pre-signed link to an export file: a URL (what the export request carries), at
 * most 8 KiB (a pre-signed S3 link is well under 2 KiB).
 */
export const MAX_FILE_URL_BYTES = 8_192;
export const fileUrl = z
  .url()
  .refine((value) => Buffer.byteLength(value, 'utf8') <= MAX_FILE_URL_BYTES, {
    message: `longer than ${MAX_FILE_URL_BYTES} bytes`,
  });

const person = z.looseObject({
  id,
  email: z.string().optional(),
  username: z.string().optional(),
  name: z.string().optional(),
});

const project = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  tags: z.array(z.string()).optional(),
  type: z.string().optional(),
});

const team = z.looseObject({ id, name: z.string().optional() });

export const projectCreatedSchema = z.looseObject({
  eventType: z.literal('PROJECT_CREATED'),
  data: z.looseObject({ timestamp: instant, project, team }),
});

export const projectCompletedSchema = z.looseObject({
  eventType: z.literal('PROJECT_COMPLETED'),
  data: z.looseObject({ timestamp: instant, labeler: person.optional(), project, team }),
});

export const projectReviewedSchema = z.looseObject({
  eventType: z.literal('PROJECT_REVIEWED'),
  data: z.looseObject({ timestamp: instant, reviewer: person.optional(), project, team }),
});

const labelItem = z.looseObject({
  documentId: z.string().optional(),
  startCellIndex: z.number().optional(),
  startCellLine: z.number().optional(),
  startTokenIndex: z.number().optional(),
  startCharIndex: z.number().optional(),
  endCellIndex: z.number().optional(),
  endCellLine: z.number().optional(),
  endTokenIndex: z.number().optional(),
  endCharIndex: z.number().optional(),
  counter: z.number().optional(),
  layer: z.number().optional(),
  labeledBy: z.string().optional(),
  type: z.string().optional(),
  labelSetItemId: z.string().nullable().optional(),
  confidenceScore: z.number().nullable().optional(),
  labeledByUserId: z.union([z.number(), z.string()]).nullable().optional(),
});

export const beforeUpdateLabelsSchema = z.looseObject({
  eventType: z.literal('BEFORE_UPDATE_LABELS'),
  data: z.looseObject({
    timestamp: instant,
    document: z.looseObject({
      id: z.string().min(1),
      originId: z.string().optional(),
      name: z.string().optional(),
      fileName: z.string().optional(),
      createdAt: z.string().optional(),
      lastSavedAt: z.string().optional(),
    }),
    isReviewDocument: z.boolean().optional(),
    labelUpdateList: z
      .looseObject({
        toDeleteList: z.array(labelItem).default([]),
        toUpsertList: z.array(labelItem).default([]),
      })
      .default({ toDeleteList: [], toUpsertList: [] }),
    owner: person.optional(),
    team: team.optional(),
  }),
});

/** The body of a `PUT` Datasaur sends when an export is delivered to a custom webhook. */
export const exportDeliverySchema = z.looseObject({
  userId: id.optional(),
  fileUrl,
  projectId: z.string().min(1),
  documentId: z.string().optional(),
});

/** The event types this product understands; anything else is kept as an unknown event. */
export const webhookEventSchema = z.discriminatedUnion('eventType', [
  projectCreatedSchema,
  projectCompletedSchema,
  projectReviewedSchema,
  beforeUpdateLabelsSchema,
]);

export const PROJECT_STATUS_EVENTS = {
  PROJECT_CREATED: 'CREATED',
  PROJECT_COMPLETED: 'COMPLETED',
  PROJECT_REVIEWED: 'REVIEWED',
} as const;

export const KNOWN_EVENT_TYPES = [
  'PROJECT_CREATED',
  'PROJECT_COMPLETED',
  'PROJECT_REVIEWED',
  'BEFORE_UPDATE_LABELS',
] as const;

export type ProjectCreatedEvent = z.infer<typeof projectCreatedSchema>;
export type ProjectCompletedEvent = z.infer<typeof projectCompletedSchema>;
export type ProjectReviewedEvent = z.infer<typeof projectReviewedSchema>;
export type BeforeUpdateLabelsEvent = z.infer<typeof beforeUpdateLabelsSchema>;
export type ProjectEvent = ProjectCreatedEvent | ProjectCompletedEvent | ProjectReviewedEvent;
export type WebhookEvent = z.infer<typeof webhookEventSchema>;
export type ExportDelivery = z.infer<typeof exportDeliverySchema>;
/** A labeler, reviewer or owner as Datasaur sends them. */
export type Person = z.infer<typeof person>;
export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];
export type ProjectStatus = (typeof PROJECT_STATUS_EVENTS)[keyof typeof PROJECT_STATUS_EVENTS];

/**
 * Datasaur's webhook events as zod schemas; the TypeScript types are inferred from them.
 * Every object is loose: Datasaur adds fields at any time, and older payloads lack some
 * (PROJECT_COMPLETED once carried `project.type` instead of `tags`). Each schema is built on
 * its first use (`builtOnFirstUse`): a cold start builds only the event types it receives.
 */

import { parseIsoDateTime } from '../runtime/instant.ts';
import * as z from '../runtime/schema.ts';
import { builtOnFirstUse } from '../runtime/schema.ts';

/** Ids arrive as strings in events and as numbers in label items: keep them as strings. */
const id = builtOnFirstUse(() =>
  z.pipe(z.union([z.string().check(z.minLength(1)), z.number()]), z.transform(String)),
);

/**
 * A field Datasaur may leave out or send as `null` (its GraphQL types are nullable: a document
 * without an `originId`, a person without a `name`): both mean "not given", and the stored
 * event keeps what arrived.
 */
function maybe<Schema extends z.ZodMiniType>(schema: Schema) {
  return z.optional(z.nullable(schema));
}

/**
 * An ISO-8601 instant, normalized to `toISOString()` form so it sorts as text. Only years
 * 0000 to 9999: `Date.parse` accepts more, but their `toISOString()` form (`+010000-…`) is not
 * an ISO-8601 instant the keys, the bus schema or the export request accept.
 */
export const instant = builtOnFirstUse(() =>
  z
    .pipe(
      z.string().check(
        // Date.parse alone takes "1" (2001), "March 7, 2024", a time without a zone or
        // February 30th: the stored time would not be the one Datasaur signed.
        z.refine((value) => parseIsoDateTime(value) !== undefined, {
          message: 'not an ISO-8601 date and time with a time zone',
        }),
      ),
      z.transform((value: string) => new Date(value).toISOString()),
    )
    .check(
      z.refine((value) => /^\d{4}-/.test(value), {
        message: 'a timestamp outside the years 0000 to 9999',
      }),
    ),
);

/**
 * Datasaur's pre-signed link to an export file: a URL (what the export request carries), at
 * most 8 KiB (a pre-signed S3 link is well under 2 KiB).
 */
export const MAX_FILE_URL_BYTES = 8_192;
export const fileUrl = builtOnFirstUse(() =>
  z.url().check(
    z.refine((value) => Buffer.byteLength(value, 'utf8') <= MAX_FILE_URL_BYTES, {
      message: `longer than ${MAX_FILE_URL_BYTES} bytes`,
    }),
  ),
);

const person = builtOnFirstUse(() =>
  z.looseObject({
    id: id(),
    email: maybe(z.string()),
    username: maybe(z.string()),
    name: maybe(z.string()),
  }),
);

const project = builtOnFirstUse(() =>
  z.looseObject({
    id: z.string().check(z.minLength(1)),
    name: maybe(z.string()),
    tags: maybe(z.array(z.string())),
    type: maybe(z.string()),
  }),
);

const team = builtOnFirstUse(() => z.looseObject({ id: id(), name: maybe(z.string()) }));

const projectCreatedSchema = builtOnFirstUse(() =>
  z.looseObject({
    eventType: z.literal('PROJECT_CREATED'),
    data: z.looseObject({ timestamp: instant(), project: project(), team: team() }),
  }),
);

const projectCompletedSchema = builtOnFirstUse(() =>
  z.looseObject({
    eventType: z.literal('PROJECT_COMPLETED'),
    data: z.looseObject({
      timestamp: instant(),
      labeler: maybe(person()),
      project: project(),
      team: team(),
    }),
  }),
);

const projectReviewedSchema = builtOnFirstUse(() =>
  z.looseObject({
    eventType: z.literal('PROJECT_REVIEWED'),
    data: z.looseObject({
      timestamp: instant(),
      reviewer: maybe(person()),
      project: project(),
      team: team(),
    }),
  }),
);

const labelItem = builtOnFirstUse(() =>
  z.looseObject({
    documentId: maybe(z.string()),
    startCellIndex: maybe(z.number()),
    startCellLine: maybe(z.number()),
    startTokenIndex: maybe(z.number()),
    startCharIndex: maybe(z.number()),
    endCellIndex: maybe(z.number()),
    endCellLine: maybe(z.number()),
    endTokenIndex: maybe(z.number()),
    endCharIndex: maybe(z.number()),
    counter: maybe(z.number()),
    layer: maybe(z.number()),
    labeledBy: maybe(z.string()),
    type: maybe(z.string()),
    labelSetItemId: maybe(z.string()),
    confidenceScore: maybe(z.number()),
    labeledByUserId: maybe(z.union([z.number(), z.string()])),
  }),
);

const beforeUpdateLabelsSchema = builtOnFirstUse(() =>
  z.looseObject({
    eventType: z.literal('BEFORE_UPDATE_LABELS'),
    data: z.looseObject({
      timestamp: instant(),
      document: z.looseObject({
        id: z.string().check(z.minLength(1)),
        originId: maybe(z.string()),
        name: maybe(z.string()),
        fileName: maybe(z.string()),
        createdAt: maybe(z.string()),
        lastSavedAt: maybe(z.string()),
      }),
      isReviewDocument: maybe(z.boolean()),
      labelUpdateList: z._default(
        z.looseObject({
          toDeleteList: z._default(z.array(labelItem()), []),
          toUpsertList: z._default(z.array(labelItem()), []),
        }),
        { toDeleteList: [], toUpsertList: [] },
      ),
      owner: maybe(person()),
      team: maybe(team()),
    }),
  }),
);

/** Each event type this product understands, by its `eventType`; anything else is kept as an unknown event. */
export const webhookEventSchemas = {
  PROJECT_CREATED: projectCreatedSchema,
  PROJECT_COMPLETED: projectCompletedSchema,
  PROJECT_REVIEWED: projectReviewedSchema,
  BEFORE_UPDATE_LABELS: beforeUpdateLabelsSchema,
} as const satisfies Record<KnownEventType, () => z.ZodMiniType>;

/** All of them in one schema, which picks the event type's own by `eventType`. */
export const webhookEventSchema = builtOnFirstUse(() =>
  z.discriminatedUnion('eventType', [
    projectCreatedSchema(),
    projectCompletedSchema(),
    projectReviewedSchema(),
    beforeUpdateLabelsSchema(),
  ]),
);

/** The body of a `PUT` Datasaur sends when an export is delivered to a custom webhook. */
export const exportDeliverySchema = builtOnFirstUse(() =>
  z.looseObject({
    userId: maybe(id()),
    fileUrl: fileUrl(),
    projectId: z.string().check(z.minLength(1)),
    documentId: maybe(z.string()),
  }),
);

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

/** The parsed event of a schema built on first use. */
type Built<Builder extends () => z.ZodMiniType> = z.infer<ReturnType<Builder>>;

export type ProjectCreatedEvent = Built<typeof projectCreatedSchema>;
export type ProjectCompletedEvent = Built<typeof projectCompletedSchema>;
export type ProjectReviewedEvent = Built<typeof projectReviewedSchema>;
export type BeforeUpdateLabelsEvent = Built<typeof beforeUpdateLabelsSchema>;
export type ProjectEvent = ProjectCreatedEvent | ProjectCompletedEvent | ProjectReviewedEvent;
export type WebhookEvent =
  | ProjectCreatedEvent
  | ProjectCompletedEvent
  | ProjectReviewedEvent
  | BeforeUpdateLabelsEvent;
export type ExportDelivery = Built<typeof exportDeliverySchema>;
/** A labeler, reviewer or owner as Datasaur sends them. */
export type Person = Built<typeof person>;
export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];
export type ProjectStatus = (typeof PROJECT_STATUS_EVENTS)[keyof typeof PROJECT_STATUS_EVENTS];

import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type * as z from 'zod';
import { paddedLabelBody } from '../scripts/local/datasaur-sender.ts';
import { SEED_EVENTS, SEED_EXPORT_DELIVERY } from '../scripts/local/seed-events.ts';
import { claimCheckedSqsRecord, RECEIVED_AT } from '../scripts/local/sqs-records.ts';
import { SCHEMA_FOLDER, schemaFiles } from '../scripts/schemas.ts';
import { compareProject, syntheticEventsFor } from '../shared/reconcile/reconcile.ts';
import { removeDeliveryLink } from '../shared/store/delivery-links.ts';
import { createEventStore } from '../shared/store/event-store.ts';
import type { ITEM_SCHEMAS, ItemType } from '../shared/store/item-schemas.ts';
import type {
  ExportItem,
  LabelEventItem,
  ProjectEventItem,
  SyntheticStatusEventItem,
} from '../shared/store/items.ts';
import { type MigrationMarker, migrateTable } from '../shared/store/migrations.ts';
import { s3BodyReader, s3BodyWriter } from '../shared/webhook/body-archive.ts';
import { eventIdOf } from '../shared/webhook/signature.ts';
import { startedForTests, startLocalDynamoDb, startLocalS3 } from './support/local-aws.ts';
import {
  type Delivery,
  sqsEvent,
  sqsRecord,
  tableContents,
  workerOnFreshTable,
} from './support/webhook-records.ts';

describe('published item schemas (schemas/items/)', () => {
  it("describe the items the code's own types say it writes (checked by the type checker)", () => {
    type Input<T extends ItemType> = z.input<(typeof ITEM_SCHEMAS)[T]>;
    expectTypeOf<ProjectEventItem>().toExtend<Input<'projectEvent'>>();
    expectTypeOf<LabelEventItem>().toExtend<Input<'labelEvent'>>();
    expectTypeOf<ExportItem>().toExtend<Input<'export'>>();
    expectTypeOf<SyntheticStatusEventItem>().toExtend<Input<'syntheticStatusEvent'>>();
    expectTypeOf<MigrationMarker>().toExtend<Input<'migrationState'>>();
  });

  it('are exactly what `npm run schemas` generates from the code', () => {
    const generated = schemaFiles();
    expect(readdirSync(SCHEMA_FOLDER).sort()).toEqual(Object.keys(generated).sort());
    for (const [name, text] of Object.entries(generated)) {
      expect(readFileSync(`${SCHEMA_FOLDER}${name}`, 'utf8'), `${name}: run npm run schemas`).toBe(
        text,
      );
    }
  });
});

describe('items from a local run, validated against the published schemas', () => {
  const dynamoDb = startedForTests(startLocalDynamoDb);
  const s3 = startedForTests(startLocalS3);

  it('every item the worker, the reconciler and the migration write matches its item type', async () => {
    const bucket = await s3.createBucket();
    const { tableName, handler } = await workerOnFreshTable(dynamoDb, {
      bodies: s3BodyReader(s3.s3),
      // Exports on (their requests dropped: no exporter here), so deliveries keep their link.
      exports: { exportOn: 'REVIEWED', queue: { send: async () => {} } },
    });
    const post = (event: unknown): Delivery => ({ body: JSON.stringify(event) });
    // A second delivery whose export is over: stored without its link.
    const ended = JSON.stringify({ ...SEED_EXPORT_DELIVERY, projectId: 'ENDED' });
    const deliveries: Delivery[] = [
      ...Object.values(SEED_EVENTS).map(post),
      { body: JSON.stringify(SEED_EXPORT_DELIVERY), method: 'PUT' },
      { body: ended, method: 'PUT' },
      post({ eventType: 'PROJECT_ARCHIVED', data: { timestamp: '2024-03-01T00:00:00Z' } }),
      post({ eventType: 'PROJECT_ARCHIVED', data: { project: { id: 'p1' }, team: { id: '1' } } }),
      { body: 'not json' },
      { body: Buffer.from([0xff, 0xfe, 0x00]).toString('latin1') },
    ];
    await handler(sqsEvent(deliveries.map((delivery) => sqsRecord(delivery))));
    const endedDelivery = {
      projectId: 'ENDED',
      receivedAt: RECEIVED_AT,
      eventId: eventIdOf(ended),
    };
    expect(
      await removeDeliveryLink(
        dynamoDb.documents,
        tableName,
        endedDelivery,
        'ARCHIVED',
        RECEIVED_AT,
      ),
    ).toBe(true);
    // A label event too large for its item: stored as a summary, its body in the bucket.
    const large = paddedLabelBody(JSON.stringify(SEED_EVENTS.BEFORE_UPDATE_LABELS), 500_000);
    await handler(
      sqsEvent([await claimCheckedSqsRecord({ body: large }, s3BodyWriter(s3.s3, bucket))]),
    );
    const project = {
      id: 'R1',
      name: 'reconciled',
      status: 'COMPLETE',
      createdDate: '2026-11-01T00:00:00.000Z',
      updatedDate: null,
      completedDate: '2026-11-02T00:00:00.000Z',
      team: { id: '1', name: null },
      tags: null,
    } as const;
    const store = createEventStore(dynamoDb.documents, tableName);
    for (const item of syntheticEventsFor(
      project,
      compareProject(project, undefined),
      undefined,
      '2026-11-03T00:00:00.000Z',
    )) {
      await store.recordSynthetic(item);
    }
    await migrateTable(dynamoDb.documents, tableName);

    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validators = Object.fromEntries(
      Object.entries(schemaFiles()).map(([name, text]) => [
        name.replace('.schema.json', ''),
        ajv.compile(JSON.parse(text)),
      ]),
    );
    const items = await tableContents(dynamoDb.documents, tableName);
    const seen = new Set<string>();
    for (const item of items) {
      const itemType = String(item.itemType);
      const validate = validators[itemType];
      expect(validate, `a schema for ${itemType} (${item.pk})`).toBeDefined();
      seen.add(itemType);
      expect(validate?.(item), `${item.pk} ${item.sk}: ${ajv.errorsText(validate?.errors)}`).toBe(
        true,
      );
    }
    expect([...seen].sort()).toEqual([
      'export',
      'labelEvent',
      'migrationState',
      'project',
      'projectEvent',
      'receipt',
      'rejected',
      'syntheticStatusEvent',
      'unknownEvent',
    ]);
    expect(items.some((item) => item.bodyObject !== undefined)).toBe(true);
    const exports = items.filter((item) => item.itemType === 'export');
    expect(exports.map((item) => item.fileUrlRemovedBecause ?? 'link kept').sort()).toEqual([
      'ARCHIVED',
      'link kept',
    ]);
  }, 60_000);

  it('refuses an export delivery without its link unless it says when and why the link went', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(schemaFiles()['export.schema.json'] ?? '{}'));
    const { fileUrl: _link, ...withoutLink } = SEED_EXPORT_DELIVERY;
    const delivery = {
      pk: `PROJECT#${SEED_EXPORT_DELIVERY.projectId}`,
      sk: `EVENT#${RECEIVED_AT}#e`,
      gsi2pk: 'FEED#2024-03-01#3',
      gsi2sk: RECEIVED_AT,
      itemType: 'export',
      eventType: 'EXPORT_DELIVERY',
      eventId: 'e',
      receivedAt: RECEIVED_AT,
      projectId: SEED_EXPORT_DELIVERY.projectId,
      data: SEED_EXPORT_DELIVERY,
    };
    const removed = { fileUrlRemovedAt: RECEIVED_AT, fileUrlRemovedBecause: 'FAILED' };
    expect(validate(delivery)).toBe(true);
    expect(validate({ ...delivery, data: withoutLink, ...removed })).toBe(true);
    expect(validate({ ...delivery, data: withoutLink })).toBe(false);
    expect(
      validate({ ...delivery, data: withoutLink, ...removed, fileUrlRemovedBecause: 'REQUESTED' }),
    ).toBe(false);
  });

  it('refuses a label item that does not describe itself', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(JSON.parse(schemaFiles()['labelEvent.schema.json'] ?? '{}'));
    const { data } = SEED_EVENTS.BEFORE_UPDATE_LABELS;
    const described = {
      pk: `DOCUMENT#${data.document.id}`,
      sk: `EVENT#${data.timestamp}#e`,
      gsi2pk: 'FEED#2024-03-01#3',
      gsi2sk: '2024-03-01T12:00:00.000Z',
      itemType: 'labelEvent',
      eventType: 'BEFORE_UPDATE_LABELS',
      eventId: 'e',
      receivedAt: '2024-03-01T12:00:00.000Z',
      eventTime: data.timestamp,
      documentId: data.document.id,
      data,
    };
    expect(validate(described)).toBe(true);
    const { eventId: _eventId, ...withoutId } = described;
    expect(validate(withoutId)).toBe(false);
  });
});

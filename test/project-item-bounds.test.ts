/**
 * The derived project item stays bounded: each event below fits in its own item, but the
 * fields the project item used to copy whole (the name of one, the team name and labeler of
 * another, the tags and reviewer of a third) add up past DynamoDB's 400 KB, after which
 * every later event of the project would fail and go round the queue.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { expect, it } from 'vitest';
import { projectKey } from '../shared/store/keys.ts';
import { MAX_COPIED_TAGS, MAX_COPIED_TEXT } from '../shared/store/project-state.ts';
import { itemSize, MAX_ITEM_BYTES } from '../shared/store/write-units.ts';
import { startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import { sqsEvent, sqsRecord, workerOnFreshTable } from './support/webhook-records.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);

const PROJECT = 'BIG-FIELDS';

function statusEvent(eventType: string, timestamp: string, data: Record<string, unknown>) {
  return sqsRecord({
    body: JSON.stringify({
      eventType,
      data: { timestamp, project: { id: PROJECT }, team: { id: '7' }, ...data },
    }),
  });
}

it('keeps the project item under 400 KB when the fields of many fitting events add up past it', async () => {
  const { tableName, handler } = await workerOnFreshTable(dynamoDb);
  const large = (letter: string, length: number) => letter.repeat(length);
  const events = [
    statusEvent('PROJECT_CREATED', '2026-11-01T00:00:00.000Z', {
      project: { id: PROJECT, name: large('n', 150_000) },
    }),
    statusEvent('PROJECT_COMPLETED', '2026-11-02T00:00:00.000Z', {
      team: { id: '7', name: large('t', 150_000) },
      labeler: { id: '1', name: large('l', 150_000) },
    }),
    statusEvent('PROJECT_REVIEWED', '2026-11-03T00:00:00.000Z', {
      project: {
        id: PROJECT,
        tags: Array.from({ length: 300 }, (_, index) => `${index}${large('g', 500)}`),
      },
      reviewer: { id: '2', email: large('e', 150_000) },
    }),
    sqsRecord({
      body: JSON.stringify({
        fileUrl: 'https://exports.example.com/f.zip',
        projectId: PROJECT,
        documentId: large('d', 150_000),
      }),
      method: 'PUT',
    }),
  ];
  for (const event of events) {
    expect((await handler(sqsEvent([event]))).batchItemFailures).toEqual([]);
  }
  // A later, ordinary event of the project is still stored.
  const later = statusEvent('PROJECT_REVIEWED', '2026-11-04T00:00:00.000Z', {});
  expect((await handler(sqsEvent([later]))).batchItemFailures).toEqual([]);

  const { Item } = await dynamoDb.documents.send(
    new GetCommand({ TableName: tableName, Key: projectKey(PROJECT), ConsistentRead: true }),
  );
  expect(Item).toMatchObject({ eventCount: 5, status: 'REVIEWED' });
  expect(itemSize(Item ?? {})).toBeLessThan(MAX_ITEM_BYTES / 10);
  expect(String(Item?.name)).toHaveLength(MAX_COPIED_TEXT);
  expect(String(Item?.name).endsWith('…')).toBe(true);
  expect(Item?.tags).toHaveLength(MAX_COPIED_TAGS);
  expect(String(Item?.completedBy?.name)).toHaveLength(MAX_COPIED_TEXT);
});

/**
 * The stand-in for IAM's `dynamodb:LeadingKeys` that the exporter's and the enrichment's tests
 * run their table clients through (test/support/leading-keys.ts): it must refuse what IAM
 * refuses, or those tests would pass on keys AWS denies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ENRICH_ITEM_PARTITIONS,
  EXPORTER_ITEM_PARTITIONS,
} from '../infra/constructs/item-partitions.ts';
import {
  documentPartition,
  documentProjectKey,
  HOURLY_COUNT_PREFIX,
  projectKey,
  projectWalkKey,
} from '../shared/store/keys.ts';
import { limitedToPartitions, stringLike } from './support/leading-keys.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from './support/local-aws.ts';

let dynamoDb: LocalDynamoDb;
beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamoDb?.close();
});

describe("IAM's StringLike", () => {
  it('matches * as any run of characters and ? as one, everything else literally', () => {
    expect(stringLike('PROJECT#*', 'PROJECT#p-1')).toBe(true);
    expect(stringLike('PROJECT#*', 'PROJECT#')).toBe(true);
    expect(stringLike('PROJECT#*', 'project#p-1')).toBe(false);
    expect(stringLike('PROJECT#*', 'XPROJECT#p-1')).toBe(false);
    expect(stringLike('DOC#*', 'DOCUMENT#d-1')).toBe(false);
    expect(stringLike('ENRICH', 'ENRICH')).toBe(true);
    expect(stringLike('ENRICH', 'ENRICHED')).toBe(false);
    expect(stringLike('A?C', 'ABC')).toBe(true);
    expect(stringLike('A?C', 'AC')).toBe(false);
    expect(stringLike('A.C', 'ABC')).toBe(false);
    expect(stringLike('P*', 'P\nline')).toBe(true);
  });
});

describe('a table client held to partitions', () => {
  it("lets the exporter reach its projects' items and nothing else", async () => {
    const tableName = await dynamoDb.createTable();
    const record = { keys: [] as string[] };
    const documents = limitedToPartitions(dynamoDb.documents, EXPORTER_ITEM_PARTITIONS, { record });
    await documents.put({ TableName: tableName, Item: { ...projectKey('p-1'), name: 'one' } });
    expect((await documents.get({ TableName: tableName, Key: projectKey('p-1') })).Item).toEqual(
      expect.objectContaining({ name: 'one' }),
    );
    const counters = { pk: `${HOURLY_COUNT_PREFIX}0`, sk: 'HOUR#2026-12-07T10' };
    await expect(
      documents.update({
        TableName: tableName,
        Key: counters,
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': 1 },
      }),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    // Refused before it reached the table, as IAM refuses it.
    expect((await dynamoDb.documents.get({ TableName: tableName, Key: counters })).Item).toBe(
      undefined,
    );
    expect(record.keys).toEqual(['PROJECT#p-1', 'PROJECT#p-1', `${HOURLY_COUNT_PREFIX}0`]);
  });

  it("lets the enrichment reach documents, label events, projects' counters and its own progress", async () => {
    const tableName = await dynamoDb.createTable();
    const documents = limitedToPartitions(dynamoDb.documents, ENRICH_ITEM_PARTITIONS);
    for (const key of [
      documentProjectKey('d-1'),
      { pk: documentPartition('d-1'), sk: 'EVENT#1' },
      projectKey('p-1'),
      projectWalkKey('t-1'),
    ]) {
      await documents.put({ TableName: tableName, Item: key });
    }
    await expect(
      documents.put({ TableName: tableName, Item: { pk: 'FEED#2026-12-07#0', sk: 'x' } }),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

/**
 * One interpretation for every step: a signed event that storing, publishing or exporting
 * would refuse is filed as rejected on its first receipt, with the limit named, and nothing
 * of it is stored half-way (no event item, no project item). Each case here used to be stored
 * and then fail a later step on every retry, into the DLQ (or, for keys, on DynamoDB only:
 * dynalite does not check the length of an index key).
 */
import { describe, expect, it } from 'vitest';
import { SEED_EVENTS } from '../scripts/local/seed-events.ts';
import { exportObjectKey } from '../shared/store/keys.ts';
import { startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import {
  sqsEvent,
  sqsRecord,
  tableContents,
  withoutReceipts,
  workerOnFreshTable,
} from './support/webhook-records.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);

const reviewed = SEED_EVENTS.PROJECT_REVIEWED;
function reviewedWith(data: Record<string, unknown>): string {
  return JSON.stringify({ ...reviewed, data: { ...reviewed.data, ...data } });
}

/** The reviewed event with `members` (raw JSON, its project included) in place of its data's project. */
function reviewedRaw(members: string): string {
  const { project: _project, ...rest } = reviewed.data;
  const others = JSON.stringify(rest).slice(1, -1);
  return `{"eventType":"${reviewed.eventType}","data":{${others},${members}}}`;
}

/** Files one delivery on a fresh table; returns the items it left (receipts aside). */
async function file(body: string, method: 'POST' | 'PUT' = 'POST') {
  // As deployed: label events look up their document's project.
  const { tableName, handler } = await workerOnFreshTable(dynamoDb, { documentProjects: true });
  const response = await handler(sqsEvent([sqsRecord({ body, method })]));
  expect(response.batchItemFailures).toEqual([]);
  return withoutReceipts(await tableContents(dynamoDb.documents, tableName));
}

describe('rejected on first receipt, the limit named', () => {
  it.each([
    [
      'a team id whose project index key passes 2048 bytes',
      reviewedWith({ team: { id: 't'.repeat(2_100) } }),
      "the project's key gsi1pk would be 2105 bytes, over DynamoDB's 2048-byte partition key limit",
    ],
    [
      "a project id whose export's index sort key passes 1024 bytes",
      reviewedWith({ project: { ...reviewed.data.project, id: 'p'.repeat(1_000) } }),
      "over DynamoDB's 1024-byte sort key limit",
    ],
    [
      'a project id over the 2048-byte partition key',
      reviewedWith({ project: { ...reviewed.data.project, id: 'p'.repeat(2_100) } }),
      "the event item key pk would be 2108 bytes, over DynamoDB's 2048-byte partition key limit",
    ],
    [
      'a timestamp Date.parse reads as 2001 ("1")',
      reviewedWith({ timestamp: '1' }),
      'data.timestamp: not an ISO-8601 date and time with a time zone',
    ],
    [
      "a timestamp without a time zone (read in the machine's zone by Date.parse)",
      reviewedWith({ timestamp: '2026-12-01T10:00:00' }),
      'data.timestamp: not an ISO-8601 date and time with a time zone',
    ],
    [
      'a timestamp Date.parse accepts beyond the year 9999',
      reviewedWith({ timestamp: '+275760-09-13T00:00:00.000Z' }),
      'data.timestamp: a timestamp outside the years 0000 to 9999',
    ],
    [
      'a number DynamoDB cannot hold (under 1E-130)',
      reviewedWith({ score: 1e-200 }),
      "1e-200 is a number closer to zero than DynamoDB's smallest magnitude, 1E-130",
    ],
    // Valid UTF-8 JSON (an escape), but half a surrogate pair once parsed: it used to throw
    // in encodeURIComponent on every receive, into the DLQ.
    [
      'an unpaired surrogate escape in the team id',
      reviewedWith({ team: { id: 'T\ud800' } }),
      'unpaired UTF-16 surrogate',
    ],
    [
      'an unpaired surrogate escape in the project id',
      reviewedWith({ project: { ...reviewed.data.project, id: '\udc00P' } }),
      'unpaired UTF-16 surrogate',
    ],
    [
      'an unpaired surrogate escape in an object key',
      reviewedWith({ extra: { 'k\ud83d': 1 } }),
      'unpaired UTF-16 surrogate',
    ],
  ])('%s', async (_case, body, reason) => {
    const items = await file(body);
    expect(items).toEqual([
      expect.objectContaining({ itemType: 'rejected', provenance: 'webhook', method: 'POST' }),
    ]);
    expect(String(items[0]?.reason)).toContain(reason);
  });

  it.each([
    ['not a URL', 'not a url', 'fileUrl: Invalid URL'],
    [
      'longer than 8 KiB',
      `https://exports.example.com/${'a'.repeat(9_000)}`,
      'longer than 8192 bytes',
    ],
  ])('an export delivery whose fileUrl is %s', async (_case, fileUrl, reason) => {
    const items = await file(JSON.stringify({ userId: 1, projectId: 'P1', fileUrl }), 'PUT');
    expect(items).toEqual([expect.objectContaining({ itemType: 'rejected', method: 'PUT' })]);
    expect(String(items[0]?.reason)).toContain(reason);
  });

  it('an export delivery whose projectId has an unpaired surrogate escape', async () => {
    const body = JSON.stringify({
      userId: 1,
      projectId: 'P\udfff',
      fileUrl: 'https://exports.example.com/p.zip',
    });
    expect(body).toContain('\\udfff');
    const items = await file(body, 'PUT');
    expect(items).toEqual([expect.objectContaining({ itemType: 'rejected', method: 'PUT' })]);
    expect(String(items[0]?.reason)).toContain('unpaired UTF-16 surrogate');
  });

  it('a well-formed pair (an emoji, escaped or not) is stored as sent', async () => {
    const name = 'Review \ud83d\ude00 done';
    const items = await file(reviewedWith({ project: { ...reviewed.data.project, name } }));
    expect(items.some((item) => item.itemType === 'rejected')).toBe(false);
    expect(JSON.stringify(items)).toContain(name);
  });
});

describe('keys the document client reads as a type, rejected on first receipt', () => {
  const project = JSON.stringify(reviewed.data.project).slice(1, -1);
  // Raw JSON: JSON.parse makes each an own key, as it does for a webhook's body.
  it.each([
    ['at the top level', `{"eventType":"PROJECT_CREATED","constructor":"y","data":{}}`],
    ['in the project', reviewedRaw(`"project":{${project},"constructor":"y"}`)],
    [
      'naming a String',
      reviewedRaw(`"project":{${project},"meta":{"constructor":{"name":"String"}}}`),
    ],
    ['naming a Set', reviewedRaw(`"project":{${project}},"extra":{"constructor":{"name":"Set"}}`)],
    [
      'naming a Boolean',
      reviewedRaw(`"project":{${project}},"extra":{"constructor":{"name":"Boolean"},"a":1}`),
    ],
    ['as __proto__', reviewedRaw(`"project":{${project},"__proto__":{"id":"other"}}`)],
    ['in an unknown event', `{"eventType":"SOMETHING_NEW","data":{"x":{"constructor":1}}}`],
  ])('a "constructor" or "__proto__" key %s', async (_case, body) => {
    const items = await file(body);
    expect(items).toEqual([
      expect.objectContaining({ itemType: 'rejected', provenance: 'webhook' }),
    ]);
    expect(String(items[0]?.reason)).toMatch(
      /^body has an object key "(constructor|__proto__)", which the DynamoDB document client reads as the object's type/,
    );
    // The signed body is kept whole.
    expect(items[0]?.body).toBe(body);
  });

  it('in an export delivery', async () => {
    const body =
      '{"userId":1,"projectId":"P1","fileUrl":"https://exports.example.com/p.zip","constructor":1}';
    const items = await file(body, 'PUT');
    expect(items).toEqual([expect.objectContaining({ itemType: 'rejected', method: 'PUT' })]);
    expect(String(items[0]?.reason)).toContain('object key "constructor"');
  });

  it('a key merely like one ("constructors", "prototype") is stored as sent', async () => {
    const items = await file(
      reviewedRaw(`"project":{${project}},"extra":{"constructors":1,"prototype":{"a":2}}`),
    );
    expect(items.some((item) => item.itemType === 'rejected')).toBe(false);
    expect(JSON.stringify(items)).toContain('"constructors":1');
  });
});

describe("a label event's document, recorded for the enrichment, within DynamoDB's key limits", () => {
  const labels = SEED_EVENTS.BEFORE_UPDATE_LABELS;
  const labelsFor = (documentId: string) =>
    JSON.stringify({
      ...labels,
      data: { ...labels.data, document: { ...labels.data.document, id: documentId } },
    });

  it('a document id too long for the pending documents index is rejected, and no document item is written', async () => {
    const items = await file(labelsFor('d'.repeat(1_000)));
    expect(items).toEqual([expect.objectContaining({ itemType: 'rejected' })]);
    expect(String(items[0]?.reason)).toBe(
      "the label event's document key gsi1sk would be 1025 bytes, over DynamoDB's 1024-byte sort key limit",
    );
  });

  it('one that fits is stored and recorded for the enrichment', async () => {
    const items = await file(labelsFor('d'.repeat(990)));
    expect(items.map((item) => item.itemType).sort()).toEqual(['documentProject', 'labelEvent']);
  });
});

describe('export object keys', () => {
  it('encode an id of dots, so a key cannot climb out of its folder; dots inside an id stay', () => {
    const at = '2026-12-01T00:00:00.000Z';
    expect(exportObjectKey('..', '.', 'PUSHED', at)).toBe(
      'exports/%2E%2E/%2E/PUSHED/2026-12-01T00-00-00.000Z.zip',
    );
    expect(exportObjectKey('1', 'v1.2', 'REVIEWED', at)).toBe(
      'exports/1/v1.2/REVIEWED/2026-12-01T00-00-00.000Z.zip',
    );
  });
});

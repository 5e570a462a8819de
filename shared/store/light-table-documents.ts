/**
 * The table's item operations through the light AWS client (`runtime/aws-json-client.ts`),
 * as lib-dynamodb's document client makes them: the SDK's own marshalling, the same
 * requests. The worker Lambda's client (issue 27).
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  createJsonClient,
  type Destroyable,
  DYNAMODB,
  type JsonClientOptions,
} from '../runtime/aws-json-client.ts';
import type { TableDocuments } from './table-documents.ts';

type AttributeMap = Record<string, unknown>;

/** As lib-dynamodb marshalls with `removeUndefinedValues`, the worker's setting. */
const toAttributes = (value: AttributeMap | undefined) =>
  value === undefined ? undefined : marshall(value, { removeUndefinedValues: true });
const fromAttributes = (value: unknown) =>
  value === undefined ? undefined : unmarshall(value as Parameters<typeof unmarshall>[0]);

/** The table's item operations, as lib-dynamodb's client makes them. */
export function lightTableDocuments(options: JsonClientOptions = {}): TableDocuments & Destroyable {
  const client = createJsonClient(DYNAMODB, options);
  return {
    async put(input) {
      const output = await client.call<{ Attributes?: unknown }>('PutItem', {
        ...input,
        Item: toAttributes(input.Item),
        ExpressionAttributeValues: toAttributes(input.ExpressionAttributeValues),
      });
      return { Attributes: fromAttributes(output.Attributes) };
    },
    async get(input) {
      const output = await client.call<{ Item?: unknown }>('GetItem', {
        ...input,
        Key: toAttributes(input.Key),
      });
      return { Item: fromAttributes(output.Item) };
    },
    async query(input) {
      const output = await client.call<{ Items?: unknown[]; LastEvaluatedKey?: unknown }>('Query', {
        ...input,
        ExpressionAttributeValues: toAttributes(input.ExpressionAttributeValues),
        ExclusiveStartKey: toAttributes(input.ExclusiveStartKey),
      });
      return {
        Items: output.Items?.map((item) => fromAttributes(item) ?? {}),
        LastEvaluatedKey: fromAttributes(output.LastEvaluatedKey),
      };
    },
    async update(input) {
      const output = await client.call<{ Attributes?: unknown }>('UpdateItem', {
        ...input,
        Key: toAttributes(input.Key),
        ExpressionAttributeValues: toAttributes(input.ExpressionAttributeValues),
      });
      return { Attributes: fromAttributes(output.Attributes) };
    },
    destroy: () => client.destroy(),
  };
}

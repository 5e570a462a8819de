/**
 * The table's item operations through the light AWS client (`runtime/aws-json-client.ts`),
 * as lib-dynamodb's document client makes them: the SDK's own marshalling, the same
 * requests. The worker's and the exporter's client in Lambda (issue 27).
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
type AttributeValue = Record<string, unknown>;

/**
 * An attribute value as the JSON protocol carries it: binary (`B`, `BS`) as base64, which the
 * SDK's serializer writes and `JSON.stringify` would not (a Uint8Array becomes an object of
 * indexes). `M` and `L` hold attribute values themselves.
 */
function toWire(value: AttributeValue): AttributeValue {
  if (value.B instanceof Uint8Array) return { B: base64(value.B) };
  if (Array.isArray(value.BS)) return { BS: value.BS.map((bytes: Uint8Array) => base64(bytes)) };
  if (Array.isArray(value.L)) return { L: value.L.map((item: AttributeValue) => toWire(item)) };
  if (value.M !== undefined) return { M: mapValues(value.M as AttributeMap, toWire) };
  return value;
}

/** The inverse: base64 back to the Uint8Array lib-dynamodb gives. */
function fromWire(value: AttributeValue): AttributeValue {
  if (typeof value.B === 'string') return { B: bytes(value.B) };
  if (Array.isArray(value.BS)) return { BS: value.BS.map((text: string) => bytes(text)) };
  if (Array.isArray(value.L)) return { L: value.L.map((item: AttributeValue) => fromWire(item)) };
  if (value.M !== undefined) return { M: mapValues(value.M as AttributeMap, fromWire) };
  return value;
}

function mapValues(
  map: AttributeMap,
  convert: (value: AttributeValue) => AttributeValue,
): AttributeMap {
  return Object.fromEntries(
    Object.entries(map).map(([name, value]) => [name, convert(value as AttributeValue)]),
  );
}

const base64 = (data: Uint8Array) =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

/** As lib-dynamodb marshalls with `removeUndefinedValues`, the functions' setting. */
const toAttributes = (value: AttributeMap | undefined) =>
  value === undefined
    ? undefined
    : mapValues(marshall(value, { removeUndefinedValues: true }), toWire);
const fromAttributes = (value: unknown) =>
  value === undefined
    ? undefined
    : unmarshall(mapValues(value as AttributeMap, fromWire) as Parameters<typeof unmarshall>[0]);

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

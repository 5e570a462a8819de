/**
 * The hot path's AWS calls through the light JSON client (`json-client.ts`): the table's item
 * operations for the worker, `PutEvents` for its publications, and the ingest's
 * `GetSecretValue` and `SendMessage`. Each takes and returns what the SDK's command would
 * (lib-dynamodb's document shapes for the table), so the code behind them does not know
 * which client it has.
 */
import type { PutEventsCommandInput, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { BusClient } from '../bus/bus-publisher.ts';
import type { TableDocuments } from '../store/table-documents.ts';
import type { QueueSender } from '../webhook/queue-sender.ts';
import { createJsonClient, type JsonClientOptions, type JsonService } from './json-client.ts';

export const DYNAMODB: JsonService = {
  endpointId: 'DYNAMODB',
  hostPrefix: 'dynamodb',
  signingName: 'dynamodb',
  targetPrefix: 'DynamoDB_20120810',
  jsonVersion: '1.0',
};
export const EVENTBRIDGE: JsonService = {
  endpointId: 'EVENTBRIDGE',
  hostPrefix: 'events',
  signingName: 'events',
  targetPrefix: 'AWSEvents',
  jsonVersion: '1.1',
};
export const SQS: JsonService = {
  endpointId: 'SQS',
  hostPrefix: 'sqs',
  signingName: 'sqs',
  targetPrefix: 'AmazonSQS',
  jsonVersion: '1.0',
};
export const SECRETS_MANAGER: JsonService = {
  endpointId: 'SECRETS_MANAGER',
  hostPrefix: 'secretsmanager',
  signingName: 'secretsmanager',
  targetPrefix: 'secretsmanager',
  jsonVersion: '1.1',
};

type AttributeMap = Record<string, unknown>;

/** As lib-dynamodb marshalls with `removeUndefinedValues`, the worker's setting. */
const toAttributes = (value: AttributeMap | undefined) =>
  value === undefined ? undefined : marshall(value, { removeUndefinedValues: true });
const fromAttributes = (value: unknown) =>
  value === undefined ? undefined : unmarshall(value as Parameters<typeof unmarshall>[0]);

export interface Destroyable {
  /** Closes the client's kept-alive connections. */
  destroy(): void;
}

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

/** EventBridge's `PutEvents`, for the bus publisher. */
export function lightBusClient(options: JsonClientOptions = {}): BusClient & Destroyable {
  const client = createJsonClient(EVENTBRIDGE, options);
  return {
    putEvents: (input: PutEventsCommandInput) =>
      client.call<Pick<PutEventsCommandOutput, 'FailedEntryCount' | 'Entries'>>('PutEvents', input),
    destroy: () => client.destroy(),
  };
}

/** SQS's `SendMessage`, for the ingest. */
export function lightQueueSender(options: JsonClientOptions = {}): QueueSender & Destroyable {
  const client = createJsonClient(SQS, options);
  return {
    sendMessage: (input) => client.call<{ MessageId?: string }>('SendMessage', input),
    destroy: () => client.destroy(),
  };
}

/** Secrets Manager's `GetSecretValue` (its string), for the ingest's webhook secret. */
export function lightSecretReader(
  options: JsonClientOptions = {},
): { secretString(secretId: string): Promise<string | undefined> } & Destroyable {
  const client = createJsonClient(SECRETS_MANAGER, options);
  return {
    async secretString(secretId) {
      const output = await client.call<{ SecretString?: string }>('GetSecretValue', {
        SecretId: secretId,
      });
      return output.SecretString;
    },
    destroy: () => client.destroy(),
  };
}

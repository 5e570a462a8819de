/**
 * What IAM's `dynamodb:LeadingKeys` condition does to a function's item operations, played in
 * front of the local table: no local DynamoDB evaluates IAM, and a key outside a role's
 * partitions would only show in AWS, as `AccessDeniedException` on a live event. A function's
 * tests run its table client through this, holding it to the same patterns as its role
 * (infra/constructs/item-partitions.ts): every key its code reaches must be one the role allows.
 */

import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  HOURLY_COUNT_PARTITIONS,
  type PartitionPatterns,
  RECONCILER_ITEM_PARTITIONS,
} from '../../infra/constructs/item-partitions.ts';

/** IAM's StringLike: `*` any run of characters, `?` one, everything else itself. */
export function stringLike(pattern: string, value: string): boolean {
  const source = [...pattern]
    .map((character) =>
      character === '*'
        ? '[\\s\\S]*'
        : character === '?'
          ? '[\\s\\S]'
          : character.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`).test(value);
}

/** Every partition key a function's item operations named, allowed or not. */
export interface LeadingKeysRecord {
  readonly keys: string[];
}

export interface PartitionLimits {
  /** Also Query on the table (not an index), as when the role's Query statement has the condition. */
  readonly queries?: boolean;
  readonly record?: LeadingKeysRecord;
}

/** The partition a Query on the table reads: the value its key condition gives `pk`. */
function queriedPartition(input: QueryCommandInput): unknown {
  const placeholder = /(?:^|[\s(])pk\s*=\s*(:[\w]+)/.exec(input.KeyConditionExpression ?? '')?.[1];
  return placeholder === undefined ? undefined : input.ExpressionAttributeValues?.[placeholder];
}

interface ItemInput {
  readonly Key?: Record<string, unknown>;
  readonly Item?: Record<string, unknown>;
}

/** Each single-item operation: IAM's action, its lib-dynamodb command and its partition. */
const ITEM_OPERATIONS = {
  get: { action: 'GetItem', command: GetCommand, partition: (input: ItemInput) => input.Key?.pk },
  put: { action: 'PutItem', command: PutCommand, partition: (input: ItemInput) => input.Item?.pk },
  update: {
    action: 'UpdateItem',
    command: UpdateCommand,
    partition: (input: ItemInput) => input.Key?.pk,
  },
  delete: {
    action: 'DeleteItem',
    command: DeleteCommand,
    partition: (input: ItemInput) => input.Key?.pk,
  },
} as const;

/**
 * `documents` as a role limited to `patterns` sees it: an item operation on a partition no
 * pattern matches fails as IAM fails it, before reaching the table. Through the
 * `TableDocuments` methods and, for lib-dynamodb's clients, `send`: GetItem, PutItem,
 * UpdateItem, DeleteItem, BatchGetItem, BatchWriteItem and, with `queries`, Query on the table.
 */
export function limitedToPartitions<Documents extends object>(
  documents: Documents,
  patterns: PartitionPatterns,
  limits: PartitionLimits = {},
): Documents {
  const record = limits.record ?? { keys: [] };
  const check = (action: string, partition: unknown) => {
    const key = String(partition);
    record.keys.push(key);
    if (patterns.some((pattern) => stringLike(pattern, key))) return;
    throw Object.assign(
      new Error(
        `User is not authorized to perform: dynamodb:${action} on the table: the role's dynamodb:LeadingKeys (${patterns.join(', ')}) do not match ${key}`,
      ),
      { name: 'AccessDeniedException' },
    );
  };
  const checkQuery = (input: QueryCommandInput) => {
    if (limits.queries === true && input.IndexName === undefined) {
      check('Query', queriedPartition(input));
    }
  };
  const checkCommand = (command: unknown) => {
    for (const { action, command: type, partition } of Object.values(ITEM_OPERATIONS)) {
      if (command instanceof type) return check(action, partition(command.input));
    }
    if (command instanceof QueryCommand) checkQuery(command.input);
    else if (command instanceof BatchGetCommand) {
      for (const { Keys = [] } of Object.values(command.input.RequestItems ?? {})) {
        for (const key of Keys) check('BatchGetItem', key.pk);
      }
    } else if (command instanceof BatchWriteCommand) {
      for (const requests of Object.values(command.input.RequestItems ?? {})) {
        for (const request of requests) {
          check('BatchWriteItem', request.PutRequest?.Item?.pk ?? request.DeleteRequest?.Key?.pk);
        }
      }
    }
  };
  const target = documents as unknown as Record<string, (...args: unknown[]) => unknown>;
  const present = (method: string) => typeof target[method] === 'function';
  const limited: Record<string, unknown> = Object.fromEntries(
    Object.entries(ITEM_OPERATIONS)
      .filter(([method]) => present(method))
      .map(([method, { action, partition }]) => [
        method,
        async (input: ItemInput) => {
          check(action, partition(input));
          return target[method]?.call(documents, input);
        },
      ]),
  );
  if (present('query')) {
    limited.query = async (input: QueryCommandInput) => {
      checkQuery(input);
      return target.query?.call(documents, input);
    };
  }
  if (present('send')) {
    limited.send = async (command: unknown, ...rest: unknown[]) => {
      checkCommand(command);
      return target.send?.call(documents, command, ...rest);
    };
  }
  // The client's other members (its `destroy`, its `config`) stay as they were.
  return new Proxy(documents, {
    get: (object, property, receiver) =>
      typeof property === 'string' && property in limited
        ? limited[property]
        : Reflect.get(object, property, receiver),
  });
}

/**
 * The table as the reconciler's role sees it: its item statement, Query included, and the
 * hourly counters' own (the stand-in does not tell their actions apart).
 */
export function asReconcilerRole<Documents extends object>(documents: Documents): Documents {
  return limitedToPartitions(
    documents,
    [...RECONCILER_ITEM_PARTITIONS, ...HOURLY_COUNT_PARTITIONS],
    { queries: true },
  );
}

/**
 * What IAM's `dynamodb:LeadingKeys` condition does to a function's item operations, played in
 * front of the local table: no local DynamoDB evaluates IAM, and a key outside a role's
 * partitions would only show in AWS, as `AccessDeniedException` on a live event. A function's
 * tests run its table client through this, holding it to the same patterns as its role
 * (infra/constructs/item-partitions.ts): every key its code reaches must be one the role allows.
 */
import type { PartitionPatterns } from '../../infra/constructs/item-partitions.ts';
import type { TableDocuments } from '../../shared/store/table-documents.ts';

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

/**
 * `documents` as a role limited to `patterns` sees it: `GetItem`, `PutItem` and `UpdateItem`
 * on a partition no pattern matches fail as IAM fails them, before reaching the table. Query
 * is not limited (the roles' Query statements carry no condition).
 */
export function limitedToPartitions<Documents extends TableDocuments>(
  documents: Documents,
  patterns: PartitionPatterns,
  record: LeadingKeysRecord = { keys: [] },
): Documents {
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
  const limited: TableDocuments = {
    get: async (input) => {
      check('GetItem', input.Key?.pk);
      return documents.get(input);
    },
    put: async (input) => {
      check('PutItem', input.Item?.pk);
      return documents.put(input);
    },
    update: async (input) => {
      check('UpdateItem', input.Key?.pk);
      return documents.update(input);
    },
    query: (input) => documents.query(input),
  };
  // The client's other members (its `destroy`, lib-dynamodb's `send`) stay as they were.
  return new Proxy(documents, {
    get: (target, property, receiver) =>
      property in limited
        ? limited[property as keyof TableDocuments]
        : Reflect.get(target, property, receiver),
  });
}

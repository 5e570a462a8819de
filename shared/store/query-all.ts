/** Every item a Query matches, read page after page (`Item`: what the caller knows they are). */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { TableDocuments } from './table-documents.ts';

export async function queryAll<Item = Record<string, unknown>>(
  documents: Pick<TableDocuments, 'query'>,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.query({ ...input, ExclusiveStartKey: startKey });
    items.push(...((page.Items ?? []) as Item[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

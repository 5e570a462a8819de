/**
 * The item operations the event store, the hourly counts, the document projects, the exporter
 * and the enrichment make on the table, as lib-dynamodb's document types (items in, items
 * out). Two clients provide them: lib-dynamodb's (`sdkTableDocuments`, and `DynamoDBDocument`,
 * which has these methods), used by every CLI, the local stack and the reconciler; and the
 * light client the worker, the exporter and the enrichment run (`light-table-documents.ts`),
 * whose cold start is a third of the SDK's (issue 27). This module imports types only, so a
 * function using the light client does not load the SDK.
 */
import type {
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';

export interface TableDocuments {
  put(input: PutCommandInput): Promise<Pick<PutCommandOutput, 'Attributes'>>;
  get(input: GetCommandInput): Promise<Pick<GetCommandOutput, 'Item'>>;
  query(input: QueryCommandInput): Promise<Pick<QueryCommandOutput, 'Items' | 'LastEvaluatedKey'>>;
  update(input: UpdateCommandInput): Promise<Pick<UpdateCommandOutput, 'Attributes'>>;
}

/**
 * A write whose condition did not hold. Told by the error's name, which both clients set
 * (the SDK's `ConditionalCheckFailedException` class is not imported: it loads the SDK).
 */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

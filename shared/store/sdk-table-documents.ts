/** `TableDocuments` through lib-dynamodb's client: the same requests, middleware and retries. */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { TableDocuments } from './table-documents.ts';

export function sdkTableDocuments(client: DynamoDBDocumentClient): TableDocuments {
  return {
    put: (input) => client.send(new PutCommand(input)),
    get: (input) => client.send(new GetCommand(input)),
    query: (input) => client.send(new QueryCommand(input)),
    update: (input) => client.send(new UpdateCommand(input)),
  };
}

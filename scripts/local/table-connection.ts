/**
 * Which table a CLI reads: the local stack's by default, or a deployed one (`--table` or
 * `--region` without an endpoint: DynamoDB in AWS, region and credentials from the standard
 * chain: AWS_REGION, AWS_PROFILE, SSO, …).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_DYNAMODB_PORT, DEFAULT_TABLE_NAME } from './defaults.ts';
import { LOCAL_CLIENT_CONFIG } from './servers.ts';

export const LOCAL_DYNAMODB_ENDPOINT = `http://127.0.0.1:${DEFAULT_DYNAMODB_PORT}`;

export interface TableFlags {
  readonly endpoint?: string;
  readonly table?: string;
  readonly region?: string;
}

export interface TableConnection {
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Where the table is, for messages. */
  readonly where: string;
  /** True for a table in AWS rather than the local stack. */
  readonly deployed: boolean;
}

export function connectTable(flags: TableFlags): TableConnection {
  const givenEndpoint = flags.endpoint ?? process.env.DYNAMODB_ENDPOINT;
  const deployed =
    givenEndpoint === undefined && (flags.region !== undefined || flags.table !== undefined);
  const endpoint = deployed ? undefined : (givenEndpoint ?? LOCAL_DYNAMODB_ENDPOINT);
  const client = new DynamoDBClient({
    ...(deployed
      ? flags.region === undefined
        ? {}
        : { region: flags.region }
      : LOCAL_CLIENT_CONFIG),
    ...(endpoint === undefined ? {} : { endpoint }),
    maxAttempts: 2,
  });
  return {
    client,
    documents: DynamoDBDocumentClient.from(client),
    tableName: flags.table ?? DEFAULT_TABLE_NAME,
    where: endpoint ?? `DynamoDB in ${flags.region ?? 'the configured AWS region'}`,
    deployed,
  };
}

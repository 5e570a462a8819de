/**
 * The table a CLI works on: the local stack's by default, or a deployed one (`--table`,
 * `--region`) through the standard AWS region and credential chain.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadDotEnv, readLocalTarget } from './config.ts';
import { DEFAULT_TABLE_NAME } from './defaults.ts';
import { LOCAL_CLIENT_CONFIG } from './servers.ts';

export interface TableFlags {
  readonly table?: string | undefined;
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
}

export interface TableConnection {
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** True for a table in AWS rather than a local DynamoDB-API server. */
  readonly deployed: boolean;
  /** Where the table is, for messages. */
  readonly where: string;
}

/** Reads `.env` first, as every local CLI does; the local stack through `readLocalTarget`. */
export function connectTable(flags: TableFlags): TableConnection {
  loadDotEnv();
  const givenEndpoint = flags.endpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined);
  // A table or a region without an endpoint names a deployed table: AWS's DynamoDB, with the
  // region and credentials from the standard chain (AWS_REGION, AWS_PROFILE, SSO, …).
  const deployed =
    givenEndpoint === undefined && (flags.region !== undefined || flags.table !== undefined);
  const local = deployed ? undefined : readLocalTarget(process.env);
  const endpoint = givenEndpoint ?? local?.dynamoDbEndpoint();
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
    documents: DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName: flags.table ?? local?.config.tableName ?? DEFAULT_TABLE_NAME,
    deployed,
    where: endpoint ?? `DynamoDB in ${flags.region ?? 'the configured AWS region'}`,
  };
}

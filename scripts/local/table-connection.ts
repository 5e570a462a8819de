/**
 * Which table a CLI reads: the local stack's by default (found as `npm start` finds it:
 * `readLocalTarget`), or a deployed one (`--table` or `--region` without an endpoint: DynamoDB
 * in AWS, region and credentials from the standard chain: AWS_REGION, AWS_PROFILE, SSO, …).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { s3BodyReader } from '../../shared/webhook/body-archive.ts';
import type { BodyReader } from '../../shared/webhook/claim-check.ts';
import { type LocalTarget, loadDotEnv, readLocalTarget } from './config.ts';
import { DEFAULT_TABLE_NAME } from './defaults.ts';
import { LOCAL_CLIENT_CONFIG, localS3 } from './servers.ts';

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
  /** The local stack, unless the table is a deployed one. */
  readonly local: LocalTarget | undefined;
  /** Region of a deployed table (undefined: the standard chain's). */
  readonly region: string | undefined;
  readonly deployed: boolean;
}

export function connectTable(flags: TableFlags): TableConnection {
  loadDotEnv();
  const givenEndpoint = flags.endpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined);
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
    // Writers (npm run reconcile) leave optional attributes out rather than storing nulls.
    documents: DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName: flags.table ?? local?.config.tableName ?? DEFAULT_TABLE_NAME,
    where: endpoint ?? `DynamoDB in ${flags.region ?? 'the configured AWS region'}`,
    local,
    region: flags.region,
    deployed,
  };
}

/**
 * The archive bucket beside the table, for events too large for their item: the local S3
 * server for a local table, S3 in AWS for a deployed one. Connected on the first read.
 */
export function archiveBeside(connection: TableConnection): {
  readonly bodies: BodyReader;
  close(): void;
} {
  let s3: S3Client | undefined;
  const client = () => {
    s3 ??=
      connection.local === undefined
        ? new S3Client(connection.region === undefined ? {} : { region: connection.region })
        : localS3(connection.local.s3Endpoint(), { maxAttempts: 2 });
    return s3;
  };
  return {
    bodies: { get: (object) => s3BodyReader(client()).get(object) },
    close: () => s3?.destroy(),
  };
}

/**
 * Which table a CLI reads: the local stack's by default (found as `npm start` finds it:
 * `readLocalTarget`), a deployed stack's by name (`--stack`: from its outputs), or a deployed
 * table (`--table` or `--region` without an endpoint: DynamoDB in AWS, region and credentials
 * from the standard chain: AWS_REGION, AWS_PROFILE, SSO, …).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { s3BodyReader } from '../../shared/webhook/body-archive.ts';
import type { BodyReader } from '../../shared/webhook/claim-check.ts';
import { type DeployedStack, resolveStack, type StackFlags } from '../deployed/stack.ts';
import { UsageError } from './cli.ts';
import { type LocalTarget, loadDotEnv, readLocalTarget } from './config.ts';
import { DEFAULT_TABLE_NAME } from './defaults.ts';
import { LOCAL_CLIENT_CONFIG, localS3 } from './servers.ts';

export interface TableFlags extends StackFlags {
  readonly endpoint?: string | undefined;
  readonly table?: string | undefined;
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
  /** AWS profile of a deployed table (undefined: the standard chain's). */
  readonly profile?: string | undefined;
  readonly deployed: boolean;
  /** The stack named by `--stack`, with its outputs and clients. */
  readonly stack: DeployedStack | undefined;
  /** Closes every client this connection made. */
  close(): void;
}

/** Connects as the flags say; `--stack` reads the stack's outputs (StackResolutionError). */
export async function connectTable(flags: TableFlags): Promise<TableConnection> {
  if (flags.stack !== undefined) {
    if (flags.table !== undefined || flags.endpoint !== undefined) {
      throw new UsageError('--stack finds the table from its outputs: drop --table and --endpoint');
    }
    const stack = await resolveStack({ ...flags, stack: flags.stack });
    const tableName = stack.output('tableName', 'to read the table');
    return {
      client: stack.clients.dynamoDb,
      documents: stack.clients.documents,
      tableName,
      where: `stack ${stack.name} in ${stack.region}`,
      local: undefined,
      region: stack.region,
      deployed: true,
      stack,
      close: () => stack.clients.destroy(),
    };
  }
  return connectTableWithoutStack(flags);
}

function connectTableWithoutStack(flags: TableFlags): TableConnection {
  loadDotEnv();
  const givenEndpoint = flags.endpoint ?? (process.env.DYNAMODB_ENDPOINT || undefined);
  const deployed =
    givenEndpoint === undefined && (flags.region !== undefined || flags.table !== undefined);
  const local = deployed ? undefined : readLocalTarget(process.env);
  const endpoint = givenEndpoint ?? local?.dynamoDbEndpoint();
  const client = new DynamoDBClient({
    ...(deployed ? deployedClientConfig(flags) : LOCAL_CLIENT_CONFIG),
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
    profile: flags.profile,
    deployed,
    stack: undefined,
    close: () => client.destroy(),
  };
}

/** `--region` and `--profile` of a deployed table given without `--stack`. */
function deployedClientConfig(flags: Pick<StackFlags, 'region' | 'profile'>): {
  region?: string;
  profile?: string;
} {
  return {
    ...(flags.region === undefined ? {} : { region: flags.region }),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
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
    if (connection.stack !== undefined) return connection.stack.clients.s3;
    s3 ??=
      connection.local === undefined
        ? new S3Client(deployedClientConfig(connection))
        : localS3(connection.local.s3Endpoint(), { maxAttempts: 2 });
    return s3;
  };
  return {
    bodies: { get: (object) => s3BodyReader(client()).get(object) },
    close: () => s3?.destroy(),
  };
}

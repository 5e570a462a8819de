/**
 * A local Secrets Manager-API endpoint: the real `@aws-sdk/client-secrets-manager` talks to it
 * over the AWS JSON 1.1 protocol (`x-amz-target: secretsmanager.<Operation>`), for the calls
 * this project makes (GetSecretValue, PutSecretValue, CreateSecret, DescribeSecret). Secrets
 * live in memory. No AWS server exists for this on the npm registry; the protocol is small.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT } from './eventbridge-server.ts';
import {
  type JsonOperation,
  ProtocolError,
  startJsonProtocolServer,
} from './json-protocol-server.ts';
import { LOCAL_CLIENT_CONFIG, type RunningServer } from './servers.ts';

export interface LocalSecretsManager extends RunningServer {
  /** Creates (or overwrites) a secret and returns its ARN, for tests and tools seeding one. */
  putSecret(name: string, value: string): string;
  /** The current value of a secret by name or ARN, for tests. */
  secretValue(id: string): string | undefined;
}

interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  value: string | undefined;
  versionId: string;
  previousVersionId: string | undefined;
  readonly createdAt: Date;
}

export async function startLocalSecretsManager(
  options: { port?: number; host?: string } = {},
): Promise<LocalSecretsManager> {
  const secrets = new Map<string, StoredSecret>();
  const find = (id: unknown): StoredSecret => {
    const secret = typeof id === 'string' ? secrets.get(id) : undefined;
    if (secret === undefined) {
      throw new ProtocolError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret.",
      );
    }
    return secret;
  };
  const create = (name: string, value: string | undefined): StoredSecret => {
    const arn = `arn:aws:secretsmanager:${LOCAL_CLIENT_CONFIG.region}:${LOCAL_ACCOUNT}:secret:${name}-${randomBytes(3).toString('hex')}`;
    const secret: StoredSecret = {
      arn,
      name,
      value,
      versionId: randomUUID(),
      previousVersionId: undefined,
      createdAt: new Date(),
    };
    secrets.set(name, secret);
    secrets.set(arn, secret);
    return secret;
  };
  const stringOf = (request: Record<string, unknown>): string => {
    if (typeof request.SecretString !== 'string') {
      throw new ProtocolError('InvalidParameterException', 'SecretString is required');
    }
    return request.SecretString;
  };

  const operations: Record<string, JsonOperation> = {
    GetSecretValue: (request) => {
      const secret = find(request.SecretId);
      if (secret.value === undefined) {
        throw new ProtocolError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdAt.getTime() / 1000,
      };
    },
    PutSecretValue: (request) => {
      const secret = find(request.SecretId);
      secret.value = stringOf(request);
      secret.previousVersionId = secret.versionId;
      secret.versionId =
        typeof request.ClientRequestToken === 'string' ? request.ClientRequestToken : randomUUID();
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
      };
    },
    CreateSecret: (request) => {
      if (typeof request.Name !== 'string' || request.Name === '') {
        throw new ProtocolError('InvalidParameterException', 'Name is required');
      }
      if (secrets.has(request.Name)) {
        throw new ProtocolError(
          'ResourceExistsException',
          `The operation failed because the secret ${request.Name} already exists.`,
        );
      }
      const secret = create(
        request.Name,
        typeof request.SecretString === 'string' ? request.SecretString : undefined,
      );
      return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId };
    },
    DescribeSecret: (request) => {
      const secret = find(request.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        CreatedDate: secret.createdAt.getTime() / 1000,
        VersionIdsToStages: {
          [secret.versionId]: ['AWSCURRENT'],
          ...(secret.previousVersionId === undefined
            ? {}
            : { [secret.previousVersionId]: ['AWSPREVIOUS'] }),
        },
      };
    },
  };

  const server = await startJsonProtocolServer({
    targetPrefix: 'secretsmanager.',
    operations,
    internalErrorCode: 'InternalServiceError',
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  return {
    endpoint: server.endpoint,
    putSecret: (name, value) => {
      const existing = secrets.get(name);
      if (existing === undefined) return create(name, value).arn;
      existing.value = value;
      return existing.arn;
    },
    secretValue: (id) => secrets.get(id)?.value,
    close: () => server.close(),
  };
}

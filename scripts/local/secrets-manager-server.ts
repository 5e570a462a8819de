/**
 * A local Secrets Manager-API endpoint: the real `@aws-sdk/client-secrets-manager` talks to it
 * over the AWS JSON 1.1 protocol (`x-amz-target: secretsmanager.<Operation>`), for the calls
 * this project makes (GetSecretValue, PutSecretValue, CreateSecret, DescribeSecret). Secrets
 * live in memory. No AWS server exists for this on the npm registry; the protocol is small.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCOUNT } from './eventbridge-server.ts';
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

const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

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

  const operations: Record<string, (request: Record<string, unknown>) => Record<string, unknown>> =
    {
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
          typeof request.ClientRequestToken === 'string'
            ? request.ClientRequestToken
            : randomUUID();
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

  const server = createServer((request, response) => {
    serve(request, response, operations).catch((error: unknown) => {
      const problem =
        error instanceof ProtocolError
          ? error
          : new ProtocolError('InternalServiceError', String(error), 500);
      answer(response, problem.status, { __type: problem.code, message: problem.message });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    putSecret: (name, value) => {
      const existing = secrets.get(name);
      if (existing === undefined) return create(name, value).arn;
      existing.value = value;
      return existing.arn;
    },
    secretValue: (id) => secrets.get(id)?.value,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  operations: Record<string, (request: Record<string, unknown>) => Record<string, unknown>>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = target.startsWith(TARGET_PREFIX)
    ? operations[target.slice(TARGET_PREFIX.length)]
    : undefined;
  if (request.method !== 'POST' || operation === undefined) {
    throw new ProtocolError(
      'UnknownOperationException',
      `this local endpoint implements ${Object.keys(operations).join(', ')}, got ${target}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ProtocolError('SerializationException', 'the request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError('SerializationException', 'the request body is not a JSON object');
  }
  answer(response, 200, operation(body as Record<string, unknown>));
}

class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': CONTENT_TYPE });
  response.end(JSON.stringify(body));
}

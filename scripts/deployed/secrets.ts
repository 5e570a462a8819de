/**
 * A deployed stack's two secrets as the CLIs read and write them: the webhook signing secret
 * (`{"current", "previous"}`, both verified by the ingest) and the Datasaur API credentials.
 */
import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { parseDatasaurCredentials } from '../../shared/datasaur/credentials-secret.ts';
import { DatasaurHttpError } from '../../shared/datasaur/errors.ts';
import {
  type DatasaurCredentials,
  getAccessToken,
} from '../../shared/datasaur/get-access-token.ts';
import { DEFAULT_HTTP_SETTINGS } from '../../shared/datasaur/http.ts';
import { parseSecretValue } from '../../shared/runtime/secrets.ts';
import type { DeployedStack } from './stack.ts';

export interface WebhookSecret {
  /** Signs what Datasaur sends from now on. */
  readonly current: string;
  /** Still verified during a rotation, until dropped. */
  readonly previous: string | undefined;
}

export async function readWebhookSecret(stack: DeployedStack): Promise<WebhookSecret> {
  const [current, previous] = parseSecretValue(
    await secretString(stack, stack.output('webhookSecretArn', 'for the webhook secret')),
  );
  return { current: current as string, previous };
}

/** A new current secret; the old one stays valid as `previous` until `dropPreviousWebhookSecret`. */
export async function rotateWebhookSecret(stack: DeployedStack): Promise<WebhookSecret> {
  const { current } = await readWebhookSecret(stack);
  // The alphabet and length the stack generates the first secret with.
  const rotated = { current: randomBytes(24).toString('hex'), previous: current };
  await putWebhookSecret(stack, rotated);
  return rotated;
}

/** Ends a rotation: only the current secret verifies from now on (after the ingest's cache). */
export async function dropPreviousWebhookSecret(stack: DeployedStack): Promise<WebhookSecret> {
  const { current } = await readWebhookSecret(stack);
  const dropped = { current, previous: undefined };
  await putWebhookSecret(stack, dropped);
  return dropped;
}

/** The credentials in the stack's secret; `CredentialsMissingError` while it is still empty. */
export async function readDatasaurCredentials(stack: DeployedStack): Promise<DatasaurCredentials> {
  return parseDatasaurCredentials(await secretString(stack, credentialsSecretArn(stack)));
}

export async function storeDatasaurCredentials(
  stack: DeployedStack,
  credentials: DatasaurCredentials,
): Promise<void> {
  await stack.clients.secrets.send(
    new PutSecretValueCommand({
      SecretId: credentialsSecretArn(stack),
      SecretString: JSON.stringify({
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
      }),
    }),
  );
}

function credentialsSecretArn(stack: DeployedStack): string {
  return stack.output(
    'datasaurCredentialsSecretArn',
    'for the Datasaur API credentials (export archiving or the reconciler must be on)',
  );
}

async function putWebhookSecret(stack: DeployedStack, secret: WebhookSecret): Promise<void> {
  await stack.clients.secrets.send(
    new PutSecretValueCommand({
      SecretId: stack.output('webhookSecretArn', 'for the webhook secret'),
      SecretString: JSON.stringify(
        secret.previous === undefined
          ? { current: secret.current }
          : { current: secret.current, previous: secret.previous },
      ),
    }),
  );
}

async function secretString(stack: DeployedStack, secretId: string): Promise<string> {
  const { SecretString } = await stack.clients.secrets.send(
    new GetSecretValueCommand({ SecretId: secretId }),
  );
  if (SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
  return SecretString;
}

/**
 * Asks Datasaur's token endpoint for a token with these credentials: undefined when it gives
 * one, else what went wrong in one sentence.
 */
export async function checkDatasaurCredentials(
  apiUrl: string,
  credentials: DatasaurCredentials,
): Promise<string | undefined> {
  try {
    await getAccessToken({ ...DEFAULT_HTTP_SETTINGS, maxAttempts: 2 }, apiUrl, credentials);
    return undefined;
  } catch (error) {
    if (error instanceof DatasaurHttpError && error.statusCode >= 400 && error.statusCode < 500) {
      return `${apiUrl} refused these credentials (HTTP ${error.statusCode}): check the client id and secret in Datasaur's workspace settings, Credentials`;
    }
    return `cannot get a token from ${apiUrl}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * The deployed functions' Datasaur credentials: read from the stack's Secrets Manager secret
 * when a token is needed, cached 5 minutes per container, so credentials filled in after
 * deployment are picked up without a redeploy. Read through the light AWS client, as the
 * webhook secret is: the SDK's Secrets Manager client (and Powertools Parameters over it)
 * was 17 KB of each function's bundle to compile at every cold start (issue 27).
 */
import { LAMBDA_CALL_TIMEOUTS, lightSecretReader } from '../runtime/aws-json-client.ts';
import { cachedSecretString } from '../runtime/secrets.ts';
import { parseDatasaurCredentials } from './credentials-secret.ts';
import type { DatasaurCredentials } from './get-access-token.ts';

const CACHE_SECONDS = 300;

/** What reads a secret's string: the light client in Lambda, anything alike in tests. */
export interface SecretStringReader {
  secretString(secretId: string): Promise<string | undefined>;
}

export function credentialsFromSecret(
  secretArn: string,
  reader: SecretStringReader = lightSecretReader(LAMBDA_CALL_TIMEOUTS),
  now: () => number = Date.now,
): () => Promise<DatasaurCredentials> {
  const value = cachedSecretString(
    () => reader.secretString(secretArn),
    CACHE_SECONDS,
    'the Datasaur credentials secret',
    now,
  );
  return async () => parseDatasaurCredentials(await value());
}

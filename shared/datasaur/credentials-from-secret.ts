/**
 * The deployed functions' Datasaur credentials: read from the stack's Secrets Manager secret
 * when a token is needed, cached 5 minutes per container, so credentials filled in after
 * deployment are picked up without a redeploy.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseDatasaurCredentials } from './credentials-secret.ts';
import type { DatasaurCredentials } from './get-access-token.ts';

const CACHE_SECONDS = 300;

export function credentialsFromSecret(secretArn: string): () => Promise<DatasaurCredentials> {
  const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) });
  return async () => {
    const value = await secrets.get(secretArn, { maxAge: CACHE_SECONDS });
    if (typeof value !== 'string') throw new Error('the Datasaur credentials secret has no value');
    return parseDatasaurCredentials(value);
  };
}

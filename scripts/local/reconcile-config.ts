/**
 * What `npm run reconcile` reads from the environment: the Datasaur API and credentials
 * `npm start` uses, the teams, and the look-back. Locally the API and credentials default to
 * the fake Datasaur API's; against a deployed table they must be given.
 */
import { DEFAULT_DATASAUR_API_URL, datasaurApiUrlProblem } from '../../shared/datasaur/client.ts';
import type { DatasaurCredentials } from '../../shared/datasaur/get-access-token.ts';
import { DEFAULT_RECONCILE_LOOKBACK_DAYS } from '../../shared/reconcile/reconciler.ts';
import { ConfigurationError, integerEnv, optionalEnv } from '../../shared/runtime/environment.ts';
import { DEFAULT_LOCAL_DATASAUR_API_URL, FAKE_DATASAUR_CREDENTIALS } from './defaults.ts';

export interface ReconcileEnvironment {
  readonly apiUrl: string;
  /** Undefined against a deployed table when the variables are unset (use `--secret`). */
  readonly credentials: DatasaurCredentials | undefined;
  readonly teamIds: readonly string[];
  readonly lookbackDays: number;
}

export function readReconcileEnvironment(
  environment: NodeJS.ProcessEnv,
  { deployed }: { deployed: boolean },
): ReconcileEnvironment {
  const apiUrl = optionalEnv(
    'DATASAUR_API_URL',
    deployed ? DEFAULT_DATASAUR_API_URL : DEFAULT_LOCAL_DATASAUR_API_URL,
    environment,
  ).trim();
  const apiUrlProblem = datasaurApiUrlProblem(apiUrl);
  if (apiUrlProblem !== undefined) {
    throw new ConfigurationError(`DATASAUR_API_URL: ${apiUrlProblem}`);
  }
  const clientId = environment.DATASAUR_CLIENT_ID?.trim() || undefined;
  const clientSecret = environment.DATASAUR_CLIENT_SECRET?.trim() || undefined;
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    throw new ConfigurationError(
      'set both DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET, or neither',
    );
  }
  const credentials =
    clientId !== undefined && clientSecret !== undefined
      ? { clientId, clientSecret }
      : deployed
        ? undefined
        : FAKE_DATASAUR_CREDENTIALS;
  return {
    apiUrl,
    credentials,
    teamIds: optionalEnv('DATASAUR_TEAM_IDS', '', environment)
      .split(',')
      .map((teamId) => teamId.trim())
      .filter((teamId) => teamId !== ''),
    lookbackDays: integerEnv(
      'RECONCILE_LOOKBACK_DAYS',
      DEFAULT_RECONCILE_LOOKBACK_DAYS,
      { min: 1, max: 3_650 },
      environment,
    ),
  };
}

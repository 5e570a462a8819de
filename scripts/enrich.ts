/**
 * `npm run enrich`: one enrichment pass by hand: resolves the documents of stored label events
 * to their Datasaur project, fills the project into their label items, recounts the projects.
 * Against the local stack and Datasaur API (the fake one of `npm run fake-datasaur` by
 * default) or a deployed table (`--table`, `--region`) with the credentials from `--secret`.
 */
import './local/sdk-notice.ts';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import { parseDatasaurCredentials } from '../shared/datasaur/credentials-secret.ts';
import { type EnrichSummary, runEnrichment } from '../shared/enrich/enrich.ts';
import { describeError } from '../shared/runtime/errors.ts';
import { sdkTableDocuments } from '../shared/store/sdk-table-documents.ts';
import { STACK_OPTIONS, stackUsage } from './deployed/stack.ts';
import { numberFlag, parseFlags, runCommandLine, UsageError } from './local/cli.ts';
import { readReconcileEnvironment } from './local/reconcile-config.ts';
import { connectTable } from './local/table-connection.ts';

const USAGE = `Usage: npm run enrich -- [flags]

Learns the project of each document whose label events arrived without one (Datasaur's
getProjects per team, then getProjectCabinets per project, from where the last pass
stopped), fills it into those label events, and recounts each project's documents and
label events. Exits 1 when Datasaur failed or refused the credentials.

Flags:
  --max-api-calls <n>     Datasaur requests this pass may make, 1-10000 (default 50)
  --json                  print the summary as JSON
${stackUsage(26)}
  --table <name>          table name (default datasaur-webhooks; alone: a deployed table)
  --endpoint <url>        DynamoDB endpoint (default $DYNAMODB_ENDPOINT, else the local stack's)
  --secret <arn or name>  read the Datasaur credentials from this secret instead of the environment

Environment (as for npm start): DATASAUR_API_URL, DATASAUR_CLIENT_ID, DATASAUR_CLIENT_SECRET.
Locally they default to the fake Datasaur API's (npm run fake-datasaur).
`;

const OPTIONS = {
  'max-api-calls': { type: 'string' },
  json: { type: 'boolean' },
  table: { type: 'string' },
  ...STACK_OPTIONS,
  endpoint: { type: 'string' },
  secret: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function describeSummary(summary: EnrichSummary): string {
  const lines = [
    `${summary.pending} pending document(s): ${summary.resolved} resolved, ${summary.deferred} deferred, ${summary.unreached} not reached; ` +
      `${summary.filled} label event(s) filled in, ${summary.finished} document(s) finished; ` +
      `${summary.apiCalls} Datasaur request(s)`,
    ...summary.projects.map(
      (project) =>
        `  project ${project.projectId}: ${project.documentCount} document(s), ${project.labelEventCount} label event(s)`,
    ),
    ...summary.skippedProjects.map(
      (skipped) => `  project ${skipped.projectId} skipped: ${skipped.error}`,
    ),
  ];
  if (summary.error !== undefined) {
    // The request budget is a pass's share, not a failure: its line says so itself.
    lines.push(summary.stoppedBy === 'budget' ? summary.error : `stopped: ${summary.error}`);
  }
  return lines.join('\n');
}

async function run(args: string[]): Promise<number> {
  const { values: flags } = parseFlags({ args, options: OPTIONS, strict: true });
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const maxApiCalls =
    flags['max-api-calls'] === undefined
      ? undefined
      : numberFlag('max-api-calls', flags['max-api-calls'], { min: 1, max: 10_000 });
  const connection = await connectTable(flags);
  const environment = readReconcileEnvironment(process.env, { deployed: connection.deployed });
  const secretId = flags.secret;
  const credentials =
    secretId === undefined
      ? environment.credentials
      : async () => {
          const secrets = new SecretsManagerClient(
            flags.region === undefined ? {} : { region: flags.region },
          );
          const { SecretString } = await secrets.send(
            new GetSecretValueCommand({ SecretId: secretId }),
          );
          if (SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
          return parseDatasaurCredentials(SecretString);
        };
  if (credentials === undefined) {
    throw new UsageError(
      'no Datasaur credentials: pass --secret <arn or name> or set DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET',
    );
  }
  try {
    const summary = await runEnrichment({
      documents: sdkTableDocuments(connection.documents),
      tableName: connection.tableName,
      datasaur: createDatasaurClient({ baseUrl: environment.apiUrl, credentials }),
      ...(maxApiCalls === undefined ? {} : { maxApiCalls }),
    });
    console.log(flags.json ? JSON.stringify(summary, null, 2) : describeSummary(summary));
    // A pass that spent its request budget did its share; the next one goes on from there.
    return summary.stoppedBy === undefined || summary.stoppedBy === 'budget' ? 0 : 1;
  } catch (error) {
    console.error(`npm run enrich: enrichment failed: ${describeError(error)}`);
    return 1;
  } finally {
    connection.close();
  }
}

await runCommandLine(run, USAGE, { prefix: 'npm run enrich: ' });

/**
 * `npm run reconcile`: one reconcile pass by hand, against the local stack and Datasaur API
 * (the fake one of `npm run fake-datasaur` by default) or a deployed table (`--table`,
 * `--region`) with the Datasaur credentials from the stack's secret (`--secret`) or the
 * environment. `--dry-run` prints the gaps and writes nothing.
 */
import './local/sdk-notice.ts';
import { hostname } from 'node:os';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import { parseDatasaurCredentials } from '../shared/datasaur/credentials-secret.ts';
import type { DatasaurCredentials } from '../shared/datasaur/get-access-token.ts';
import { ReconcileInProgressError } from '../shared/reconcile/lease.ts';
import type { ReconcileRun } from '../shared/reconcile/reconciler.ts';
import { describeError } from '../shared/runtime/errors.ts';
import type { ProjectTransition } from '../shared/store/event-store.ts';
import { STACK_OPTIONS, stackUsage } from './deployed/stack.ts';
import { numberFlag, parseFlags, runCommandLine, UsageError } from './local/cli.ts';
import { exportOnFromEnvironment } from './local/config.ts';
import { readReconcileEnvironment } from './local/reconcile-config.ts';
import { isMissingQueue, LOCAL_CLIENT_CONFIG } from './local/servers.ts';
import { exportQueueName } from './local/stack.ts';
import { connectTable, type TableConnection } from './local/table-connection.ts';
import { exportOnQueue, reconcileByHand, runSummary } from './operations/reconcile.ts';

const USAGE = `Usage: npm run reconcile -- [flags]

Asks Datasaur's API for the projects of every team the credentials can see (or of the teams
given), compares them with the table and repairs what
no webhook delivered (missing projects, statuses behind Datasaur's).

Flags:
  --team <id>             only this team; repeat or comma-separate (default $DATASAUR_TEAM_IDS,
                          else every team the credentials can see)
  --dry-run               print the gaps, write nothing
  --lookback-days <n>     skip projects not created or updated in n days (default $RECONCILE_LOOKBACK_DAYS, else 30)
  --page-size <n>         projects per getProjects call, 1-100 (default 50)
  --json                  print the run as JSON
${stackUsage(26)}
                          With --stack: the table, the credentials secret, the Datasaur API and
                          the export queue all come from the stack's outputs.
  --table <name>          table name (default datasaur-webhooks; alone: a deployed table)
  --endpoint <url>        DynamoDB endpoint (default $DYNAMODB_ENDPOINT, else the local stack's)
  --secret <arn or name>  read the Datasaur credentials from this secret (the stack's
                          DatasaurCredentialsSecretArn output) instead of the environment
  --export-queue-url <url>
                          a deployed stack's export queue (output ExportQueueUrl): repaired
                          transitions ask for their export there, for the statuses of $EXPORT_ON
                          (default REVIEWED). Locally the export queue of npm start is used when
                          it runs the exporter (DATASAUR_CLIENT_ID set).

Environment (as for npm start): DATASAUR_API_URL, DATASAUR_CLIENT_ID, DATASAUR_CLIENT_SECRET,
DATASAUR_TEAM_IDS. Locally they default to the fake Datasaur API's (npm run fake-datasaur).
`;

const OPTIONS = {
  team: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  'lookback-days': { type: 'string' },
  'page-size': { type: 'string' },
  json: { type: 'boolean' },
  table: { type: 'string' },
  ...STACK_OPTIONS,
  endpoint: { type: 'string' },
  secret: { type: 'string' },
  'export-queue-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function credentialsFromSecret(
  secretId: string,
  secrets: SecretsManagerClient,
): Promise<DatasaurCredentials> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
  return parseDatasaurCredentials(SecretString);
}

function printRun(run: ReconcileRun): void {
  console.log(runSummary(run));
  for (const gap of run.gaps) {
    const table = gap.stored === undefined ? 'not in the table' : `table ${gap.stored}`;
    console.log(
      `  ${gap.kind.padEnd(7)} ${gap.projectId} (team ${gap.teamId}): Datasaur ${gap.datasaurStatus} → ${gap.expected}, ${table}`,
    );
  }
  if (run.gapsFound > run.gaps.length)
    console.log(`  … and ${run.gapsFound - run.gaps.length} more`);
  if (!run.dryRun) {
    console.log(
      `repaired ${run.repaired} of ${run.gapsFound} gap(s), ${run.writeUnits} write units; run ${run.runId} recorded (npm run query -- reconcile)`,
    );
  }
  for (const error of run.errors) console.error(`npm run reconcile: ${error}`);
}

async function run(args: string[]): Promise<number> {
  const { values: flags } = parseFlags({ args, options: OPTIONS, strict: true });
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const connection = await connectTable(flags);
  const { stack } = connection;
  const fromEnvironment = readReconcileEnvironment(process.env, { deployed: connection.deployed });
  // A stack says which Datasaur API its functions call; DATASAUR_API_URL still wins.
  const environment =
    stack?.outputs.datasaurApiUrl !== undefined && !process.env.DATASAUR_API_URL
      ? { ...fromEnvironment, apiUrl: stack.outputs.datasaurApiUrl }
      : fromEnvironment;
  const teamIds = (flags.team ?? environment.teamIds)
    .flatMap((value) => (typeof value === 'string' ? value.split(',') : []))
    .map((teamId) => teamId.trim())
    .filter((teamId) => teamId !== '');
  if (flags.team !== undefined && teamIds.length === 0) {
    // An empty --team would otherwise mean every team the credentials can see.
    throw new UsageError(
      `--team needs a team id (or several, comma-separated), got "${flags.team.join(' ')}"`,
    );
  }
  const secretId =
    flags.secret ??
    stack?.output('datasaurCredentialsSecretArn', 'for the Datasaur API credentials');
  const secrets =
    secretId === undefined
      ? undefined
      : (stack?.clients.secrets ??
        new SecretsManagerClient(flags.region === undefined ? {} : { region: flags.region }));
  const credentials =
    secretId !== undefined && secrets !== undefined
      ? () => credentialsFromSecret(secretId, secrets)
      : environment.credentials;
  if (credentials === undefined) {
    throw new UsageError(
      "no Datasaur credentials: pass --secret <the stack's DatasaurCredentialsSecretArn> or set DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET",
    );
  }
  const lookbackDays =
    flags['lookback-days'] === undefined
      ? environment.lookbackDays
      : numberFlag('lookback-days', flags['lookback-days'], { min: 1, max: 3_650 });
  const pageSize =
    flags['page-size'] === undefined
      ? undefined
      : numberFlag('page-size', flags['page-size'], { min: 1, max: 100 });

  const client = createDatasaurClient({ baseUrl: environment.apiUrl, credentials });
  const sqs =
    stack?.clients.sqs ??
    new SQSClient(
      connection.local === undefined
        ? connection.region === undefined
          ? {}
          : { region: connection.region }
        : { ...LOCAL_CLIENT_CONFIG, endpoint: connection.local.sqsEndpoint() },
    );
  try {
    // A dry run writes nothing, so it asks for no export either.
    const onTransition =
      flags['dry-run'] === true
        ? undefined
        : await exportTrigger(
            sqs,
            connection,
            flags['export-queue-url'] ?? stack?.outputs.exportQueueUrl,
          );
    const result = await reconcileByHand({
      client,
      documents: connection.documents,
      tableName: connection.tableName,
      teamIds,
      lookbackDays,
      ...(pageSize === undefined ? {} : { pageSize }),
      dryRun: flags['dry-run'] === true,
      ...(onTransition === undefined ? {} : { onTransition }),
      onPage: (progress) =>
        console.error(
          `team ${progress.teamId} page ${progress.page}: ${progress.projects} project(s); ${progress.checked} checked, ${progress.gaps} gap(s) so far`,
        ),
      holder: `npm run reconcile on ${hostname()}, pid ${process.pid}`,
    });
    if (flags.json) console.log(JSON.stringify(result, null, 2));
    else printRun(result);
    return result.outcome === 'failed' ? 1 : 0;
  } catch (error) {
    if (error instanceof ReconcileInProgressError) {
      console.error(`${error.message}: this run exits without checking anything; try again later`);
      return 1;
    }
    if (error instanceof DynamoDBServiceException && error.name === 'ResourceNotFoundException') {
      console.error(
        `table ${connection.tableName} does not exist at ${connection.where} (pass --table <name>)`,
      );
      return 1;
    }
    console.error(
      `reconcile failed against ${connection.where} and ${environment.apiUrl}: ${describeError(error)}`,
    );
    return 1;
  } finally {
    connection.close();
    sqs.destroy();
    secrets?.destroy();
  }
}

/**
 * Where repaired transitions ask for their export, as the worker's webhooks do: the export
 * queue given, or the local stack's when it runs the exporter; none otherwise (said once).
 */
async function exportTrigger(
  sqs: SQSClient,
  connection: TableConnection,
  queueUrl: string | undefined,
): Promise<((transition: ProjectTransition) => Promise<void>) | undefined> {
  if (queueUrl !== undefined) {
    return exportOnQueue(sqs, queueUrl, exportOnFromEnvironment(UsageError));
  }
  if (connection.local === undefined) {
    console.error('no export queue: repairs ask for no export (see --export-queue-url)');
    return undefined;
  }
  // The running stack's export queue, whatever this shell's DATASAUR_* (npm start may have
  // been given them on its own command line); EXPORT_ON as this shell says, as npm start reads it.
  const name = exportQueueName(connection.local.config.queueName);
  const exportOn =
    connection.local.config.exporter?.exportOn ?? exportOnFromEnvironment(UsageError);
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return exportOnQueue(sqs, String(QueueUrl), exportOn);
  } catch (error) {
    console.error(
      isMissingQueue(error)
        ? `no export queue ${name}: the local stack runs no exporter, so repairs ask for no export`
        : `no export queue ${name} in the local stack (${describeError(error)}): repairs ask for no export`,
    );
    return undefined;
  }
}

await runCommandLine(run, USAGE, { prefix: 'npm run reconcile: ' });

/**
 * `npm run doctor [-- --stack <name>]`: the go-live check. Sends a signed test event to the
 * endpoint and waits until it is queryable, then checks the dead-letter queues, the alarms, the
 * Datasaur credentials, the last reconcile run and the last export. One line per check: ✓, ✗
 * with what to do, or "skipped" with why; exits 0 only when nothing is ✗.
 */
import './local/sdk-notice.ts';
import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_DATASAUR_API_URL } from '../shared/datasaur/client.ts';
import { CredentialsMissingError } from '../shared/datasaur/credentials-secret.ts';
import type { DatasaurCredentials } from '../shared/datasaur/get-access-token.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import { describeError } from '../shared/runtime/errors.ts';
import { createQueries, type Queries, type View } from '../shared/store/queries.ts';
import { redactWebhookUrl } from '../shared/webhook/route.ts';
import { testEventBody } from '../shared/webhook/test-event.ts';
import { stackAlarmStates } from './deployed/alarms.ts';
import {
  checkDatasaurCredentials,
  readDatasaurCredentials,
  readWebhookSecret,
} from './deployed/secrets.ts';
import {
  type DeployedStack,
  resolveStack,
  STACK_OPTIONS,
  StackResolutionError,
  stackUsage,
  webhookUrlToRegister,
} from './deployed/stack.ts';
import { numberFlag, parseFlags, runCommandLine } from './local/cli.ts';
import { loadDotEnv, readLocalTarget } from './local/config.ts';
import { sendDatasaurRequest, signDatasaurRequest } from './local/datasaur-sender.ts';
import { deadLetterQueueName } from './local/defaults.ts';
import { signingSecret } from './local/dev-secret.ts';
import { isMissingQueue, LOCAL_CLIENT_CONFIG, localDynamoDb } from './local/servers.ts';
import { exportQueueName } from './local/stack.ts';

const USAGE = `Usage: npm run doctor [-- flags]

Checks that a stack works end to end, one line per check (✓, ✗ with what to do, or skipped
with why); exits 0 only when no check is ✗. Against the local stack of npm start by default.

  1. round trip      a signed test event sent to the webhook URL is accepted and queryable
  2. dead letters    the dead-letter queues are empty
  3. alarms          no alarm of the stack is in ALARM (no CloudWatch locally: skipped)
  4. credentials     Datasaur's token endpoint accepts the stored API credentials
  5. reconcile       the last reconcile run succeeded
  6. export          the last archived export did not fail

The test event is a PROJECT_CREATED of project datasaur-webhooks-doctor-<random> in team
datasaur-webhooks-doctor: it is stored (that is the check) but never published on the bus nor
replayed, and a team's queries never list it.

Flags:
  --timeout-seconds <n>   how long to wait for the test event to be queryable (default 60)
${stackUsage()}
`;

const OPTIONS = {
  'timeout-seconds': { type: 'string' },
  ...STACK_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Status = 'ok' | 'failed' | 'skipped';

interface CheckResult {
  readonly status: Status;
  readonly detail: string;
}

const ok = (detail: string): CheckResult => ({ status: 'ok', detail });
const failed = (detail: string): CheckResult => ({ status: 'failed', detail });
const skipped = (detail: string): CheckResult => ({ status: 'skipped', detail });

/** The stack under check: the local one, or a deployed one found by name. */
interface DoctorTarget {
  /** "the local stack" or "stack X in us-east-1 (version 0.1.0)". */
  readonly title: string;
  /** Flags that point another command at the same stack (` -- --stack X` or ''). */
  readonly flags: string;
  webhook(): Promise<{ url: string; secret: string }>;
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly sqs: SQSClient;
  deadLetterQueues(): Promise<{ name: string; url: string; redrive: string }[]>;
  alarms(): Promise<CheckResult>;
  /** Credentials to check, or why there are none to check. */
  credentials(): Promise<
    { apiUrl: string; credentials: DatasaurCredentials } | { result: CheckResult }
  >;
  exporterOn(): Promise<boolean>;
  /** Why no reconcile run may exist yet. */
  readonly reconcileNote: string;
  close(): void;
}

async function run(args: string[]): Promise<number> {
  loadDotEnv();
  const { values } = parseFlags({ args, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const timeoutMs =
    numberFlag('timeout-seconds', values['timeout-seconds'] ?? '60', { min: 1, max: 3_600 }) * 1000;
  const target =
    values.stack === undefined
      ? localTarget()
      : stackTarget(await resolveStack({ ...values, stack: values.stack }));
  const queries = createQueries(target.documents, target.tableName);
  console.log(`Go-live check of ${target.title}`);
  const checks: [string, () => Promise<CheckResult>][] = [
    ['round trip', () => roundTrip(target, queries, timeoutMs)],
    ['dead-letter queues', () => deadLetters(target)],
    ['alarms', () => target.alarms()],
    ['Datasaur credentials', () => credentialsCheck(target)],
    ['last reconcile run', () => lastReconcileRun(target, queries)],
    ['last export', () => lastExport(target, queries)],
  ];
  const counts: Record<Status, number> = { ok: 0, failed: 0, skipped: 0 };
  try {
    for (const [name, check] of checks) {
      let result: CheckResult;
      try {
        result = await check();
      } catch (error) {
        result = failed(`the check itself failed: ${describeError(error)}`);
      }
      counts[result.status] += 1;
      console.log(line(name, result));
    }
  } finally {
    target.close();
  }
  console.log(
    `${checks.length} checks: ${counts.ok} ✓, ${counts.failed} ✗, ${counts.skipped} skipped`,
  );
  return counts.failed === 0 ? 0 : 1;
}

function line(name: string, result: CheckResult): string {
  switch (result.status) {
    case 'ok':
      return `✓ ${name}: ${result.detail}`;
    case 'failed':
      return `✗ ${name}: ${result.detail}`;
    default:
      return `- ${name}: skipped (${result.detail})`;
  }
}

async function roundTrip(
  target: DoctorTarget,
  queries: Queries,
  timeoutMs: number,
): Promise<CheckResult> {
  let webhook: { url: string; secret: string };
  try {
    webhook = await target.webhook();
  } catch (error) {
    // The stack's API or its webhook route cannot be read: what to do is in the message.
    if (error instanceof StackResolutionError) return failed(error.message);
    throw error;
  }
  const { secret } = webhook;
  // The path token is a secret: doctor's lines show where it went, not the token.
  const url = redactWebhookUrl(webhook.url);
  const suffix = randomBytes(6).toString('hex');
  const request = signDatasaurRequest(testEventBody(suffix, new Date().toISOString()), secret);
  const started = performance.now();
  const outcome = await sendDatasaurRequest(webhook.url, request);
  if (outcome.status === undefined) {
    return failed(
      `no answer from ${url}: ${outcome.detail}${target.flags === '' ? ' (is npm start running?)' : ''}`,
    );
  }
  if (outcome.status === 401) {
    return failed(
      `${url} refused the signature (401): the endpoint verifies with another secret than the one read here`,
    );
  }
  if (outcome.status < 200 || outcome.status > 299) {
    return failed(`${url} answered ${outcome.status}: ${outcome.detail.slice(0, 200)}`);
  }
  const projectId = `datasaur-webhooks-doctor-${suffix}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const project: View | undefined = await queries.project(projectId);
    if (project !== undefined) {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      return ok(
        `test event accepted (${outcome.status}) by ${url} and queryable after ${seconds} s (npm run query${target.flags === '' ? ' --' : target.flags} project ${projectId})`,
      );
    }
    if (Date.now() >= deadline) {
      return failed(
        `the test event was accepted (${outcome.status}) but not in table ${target.tableName} after ${timeoutMs / 1000} s: is the worker running? Look at the worker's logs and the dead-letter queue`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function deadLetters(target: DoctorTarget): Promise<CheckResult> {
  const queues = await target.deadLetterQueues();
  const depths = await Promise.all(
    queues.map(async (queue) => {
      const { Attributes = {} } = await target.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queue.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const depth =
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
      return { ...queue, depth };
    }),
  );
  const full = depths.filter((queue) => queue.depth > 0);
  if (full.length > 0) {
    return failed(
      full
        .map(
          (queue) =>
            `${queue.depth} message(s) in ${queue.name}: find why in the logs (docs/operations.md), then ${queue.redrive}`,
        )
        .join('; '),
    );
  }
  return ok(`${depths.map((queue) => queue.name).join(', ')} empty`);
}

async function credentialsCheck(target: DoctorTarget): Promise<CheckResult> {
  const found = await target.credentials();
  if ('result' in found) return found.result;
  const problem = await checkDatasaurCredentials(found.apiUrl, found.credentials);
  return problem === undefined
    ? ok(`${found.apiUrl} issued a token for client ${found.credentials.clientId}`)
    : failed(`${problem}; then npm run setup${target.flags || ' -- --stack <name>'}`);
}

async function lastReconcileRun(target: DoctorTarget, queries: Queries): Promise<CheckResult> {
  const [run] = (await queries.reconcileRuns({ limit: 1 })).items;
  if (run === undefined) return skipped(`no reconcile run recorded yet: ${target.reconcileNote}`);
  const summary = `run of ${run.startedAt}: ${run.projectsChecked} project(s) checked, ${run.gapsFound ?? 0} gap(s), ${run.repaired ?? 0} repaired`;
  if (run.outcome === 'failed') {
    const errors = (run.errors as string[] | undefined)?.join('; ').slice(0, 300) ?? '';
    return failed(
      `${summary}, failed: ${errors} (npm run query${target.flags || ' --'} reconcile)`,
    );
  }
  return ok(summary);
}

async function lastExport(target: DoctorTarget, queries: Queries): Promise<CheckResult> {
  if (!(await target.exporterOn())) return skipped('export archiving is off');
  const newest = async (status: 'ARCHIVED' | 'FAILED') =>
    (await queries.exports({ status }, { limit: 1 })).items[0];
  const [archived, failedExport] = await Promise.all([newest('ARCHIVED'), newest('FAILED')]);
  const last = [archived, failedExport]
    .filter((view): view is View => view !== undefined)
    .sort((left, right) => String(right.requestedAt).localeCompare(String(left.requestedAt)))[0];
  if (last === undefined) {
    return skipped(
      `no export archived yet: one comes with a project's next REVIEWED (or EXPORT_ON) webhook, or npm run export${target.flags || ' --'} --project <id>`,
    );
  }
  if (last.status === 'FAILED') {
    return failed(
      `export of project ${last.projectId} requested ${last.requestedAt} FAILED: ${last.reason}; retry with npm run export${target.flags || ' --'} --project ${last.projectId}`,
    );
  }
  return ok(`project ${last.projectId} archived ${last.requestedAt} to ${last.key}`);
}

function localTarget(): DoctorTarget {
  const local = readLocalTarget();
  const { config } = local;
  const documents = localDynamoDb(local.dynamoDbEndpoint());
  const sqs = new SQSClient({ ...LOCAL_CLIENT_CONFIG, endpoint: local.sqsEndpoint() });
  const queueUrl = async (name: string) =>
    String((await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl);
  // The running stack has an exporter when its export queues exist, whatever this shell's
  // settings (npm start may have been given DATASAUR_* on its own command line).
  const exportDeadLetterQueue = deadLetterQueueName(exportQueueName(config.queueName));
  let exportQueues: Promise<boolean> | undefined;
  const exporterRuns = () => {
    exportQueues ??= queueUrl(exportDeadLetterQueue).then(
      () => true,
      (error: unknown) => {
        if (isMissingQueue(error)) return false;
        throw error;
      },
    );
    return exportQueues;
  };
  return {
    title: `the local stack (table ${config.tableName} at ${local.dynamoDbEndpoint()})`,
    flags: '',
    webhook: async () => {
      const secret = signingSecret(config.webhookSecrets, config.dataDir);
      if (secret === undefined) {
        throw new ConfigurationError(
          `no webhook secret: set DATASAUR_WEBHOOK_SECRET, or run npm start once (it saves a dev secret in ${config.dataDir})`,
        );
      }
      return { url: local.webhookUrl(), secret };
    },
    documents,
    tableName: config.tableName,
    sqs,
    deadLetterQueues: async () => {
      const names = [
        { name: local.deadLetterQueueName, redrive: 'npm run redrive' },
        ...((await exporterRuns())
          ? [{ name: exportDeadLetterQueue, redrive: 'npm run redrive -- --exports' }]
          : []),
      ];
      return Promise.all(
        names.map(async (queue) => ({ ...queue, url: await queueUrl(queue.name) })),
      );
    },
    alarms: async () =>
      skipped("the local stack has no CloudWatch; with --stack the stack's alarms are read"),
    credentials: async () =>
      config.exporter === undefined
        ? {
            result: skipped(
              (await exporterRuns())
                ? 'the running stack exports, but this command was given no DATASAUR_API_URL, DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET: give it those npm start has (or put them in .env) to check them'
                : 'neither DATASAUR_CLIENT_ID nor DATASAUR_API_URL is set, so the local exporter is off',
            ),
          }
        : config.exporter.credentials === undefined
          ? {
              result: failed(
                `DATASAUR_API_URL is set but DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET are not: exports wait (npm run query -- exports --status WAITING); restart npm start with both`,
              ),
            }
          : { apiUrl: config.exporter.apiUrl, credentials: config.exporter.credentials },
    exporterOn: exporterRuns,
    reconcileNote: 'locally a run is made by hand (npm run reconcile -- --team <id>)',
    close: () => {
      documents.destroy();
      sqs.destroy();
    },
  };
}

function stackTarget(stack: DeployedStack): DoctorTarget {
  const flags = ` -- --stack ${stack.name}`;
  const { outputs } = stack;
  return {
    title: `stack ${stack.name} in ${stack.region} (version ${outputs.version ?? 'unknown: no Version output'})`,
    flags,
    webhook: async () => ({
      url: await webhookUrlToRegister(stack),
      secret: (await readWebhookSecret(stack)).current,
    }),
    documents: stack.clients.documents,
    tableName: stack.output('tableName', 'to find the test event'),
    sqs: stack.clients.sqs,
    deadLetterQueues: async () => [
      {
        name: 'the webhook DLQ',
        url: stack.output('deadLetterQueueUrl', 'to check the DLQ'),
        redrive: `npm run redrive${flags}`,
      },
      ...(outputs.exportDeadLetterQueueUrl === undefined
        ? []
        : [
            {
              name: 'the export DLQ',
              url: outputs.exportDeadLetterQueueUrl,
              redrive: `npm run redrive${flags} --exports`,
            },
          ]),
    ],
    alarms: () => stackAlarms(stack),
    credentials: async () => {
      if (outputs.datasaurCredentialsSecretArn === undefined) {
        return {
          result: skipped(
            'the stack has no Datasaur credentials secret: export archiving and the reconciler are off',
          ),
        };
      }
      try {
        return {
          apiUrl: outputs.datasaurApiUrl ?? DEFAULT_DATASAUR_API_URL,
          credentials: await readDatasaurCredentials(stack),
        };
      } catch (error) {
        if (!(error instanceof CredentialsMissingError)) throw error;
        return {
          result: failed(
            `the credentials secret is still empty: npm run setup${flags} (export archiving and reconcile cannot call Datasaur until then)`,
          ),
        };
      }
    },
    exporterOn: async () => outputs.exportQueueUrl !== undefined,
    reconcileNote:
      outputs.reconcilerLogGroupName === undefined
        ? 'the scheduled reconciler is off (context reconcileEvery=off)'
        : 'the reconciler runs on its schedule (or now: npm run reconcile -- --stack <name>)',
    close: () => stack.clients.destroy(),
  };
}

/** The stack's alarms (from its resources) and their states. */
async function stackAlarms(stack: DeployedStack): Promise<CheckResult> {
  const { names, states } = await stackAlarmStates(stack);
  if (names.length === 0) return failed(`stack ${stack.name} lists no CloudWatch alarm`);
  const firing = states.filter((alarm) => alarm.state === 'ALARM');
  if (firing.length > 0) {
    return failed(
      `${firing.map((alarm) => `${alarm.name} is in ALARM (${alarm.reason})`).join('; ')}: see docs/operations.md for each alarm`,
    );
  }
  if (states.length < names.length) {
    return failed(`CloudWatch knows ${states.length} of the stack's ${names.length} alarms`);
  }
  const waiting = states.filter((alarm) => alarm.state === 'INSUFFICIENT_DATA').length;
  return ok(
    `${states.length} alarm(s), none in ALARM${waiting === 0 ? '' : ` (${waiting} without data yet)`}`,
  );
}

await runCommandLine(run, USAGE, { prefix: 'npm run doctor: ' });

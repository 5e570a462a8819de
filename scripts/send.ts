/**
 * `npm run send -- <what>`: signs and sends requests as Datasaur does, to the local stack by
 * default. One line per request, and a summary with `--count`.
 */
import './local/sdk-notice.ts';
import { readFileSync, statSync } from 'node:fs';
import { limitConcurrency } from '../shared/runtime/concurrency.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import { describeError } from '../shared/runtime/errors.ts';
import { readWebhookSecret } from './deployed/secrets.ts';
import {
  resolveStack,
  STACK_OPTIONS,
  StackResolutionError,
  stackUsage,
  webhookUrlToRegister,
} from './deployed/stack.ts';
import { endQuietlyWhenReaderCloses, numberFlag, parseFlags, UsageError } from './local/cli.ts';
import {
  type LocalStackConfig,
  type LocalTarget,
  loadDotEnv,
  readLocalTarget,
} from './local/config.ts';
import {
  type DatasaurRequest,
  exportDeliveryBody,
  freshTimestamps,
  type SendOutcome,
  seedEventBody,
  sendDatasaurRequest,
  signDatasaurRequest,
} from './local/datasaur-sender.ts';
import { DEFAULT_LOCAL_DATASAUR_API_URL } from './local/defaults.ts';
import { signingSecret } from './local/dev-secret.ts';
import { SEED_EVENT_TYPES, SEED_EXPORT_DELIVERY, type SeedEventType } from './local/seed-events.ts';

const USAGE = `Usage: npm run send -- <what> [flags]

<what>:
  ${SEED_EVENT_TYPES.join(' | ')}
                        the example event from Datasaur's docs with a fresh data.timestamp (POST)
  export                an export delivery (PUT); repeated sends are duplicates (no timestamp)
  <file>                a file sent byte for byte (POST)

Flags:
  --project <id>        project id (PROJECT_* events and export)
  --document <id>       document id (BEFORE_UPDATE_LABELS and export)
  --file-url <url>      export: the file the delivery names (default, locally: a file the fake
                        Datasaur API at $DATASAUR_API_URL serves; with --stack or --url: the
                        documented example, which no exporter can download)
  --labels <n>          BEFORE_UPDATE_LABELS with n generated upserts, about 330 bytes each
                        (1,000 ≈ 330 KB, 3,000 ≈ 1 MB, 5,000 ≈ 1.7 MB, 15,000 ≈ the 5 MB limit)
  --url <url>           webhook URL (default http://$HOST:$PORT/webhooks/datasaur/$WEBHOOK_PATH_TOKEN,
                        as npm start)
  --secret <secret>     signing secret (default the first of $DATASAUR_WEBHOOK_SECRET, else the
                        dev secret npm start saved under $DATA_DIR)
  --count <n>           send n requests, each event with its own timestamp (default 1)
  --concurrency <c>     requests in flight at once (default 1)
${stackUsage()}
                        With --stack: the stack's webhook URL and its current secret.
`;

const OPTIONS = {
  project: { type: 'string' },
  document: { type: 'string' },
  labels: { type: 'string' },
  'file-url': { type: 'string' },
  url: { type: 'string' },
  secret: { type: 'string' },
  count: { type: 'string' },
  concurrency: { type: 'string' },
  ...STACK_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

interface SendPlan {
  readonly label: string;
  readonly url: string;
  readonly count: number;
  /** Print totals at the end (asked for with --count). */
  readonly summarize: boolean;
  readonly concurrency: number;
  /** The `index`-th request of the run. */
  readonly request: (index: number) => DatasaurRequest;
}

async function planFromArguments(args: string[]): Promise<SendPlan | 'help'> {
  const { values, positionals } = parseFlags({
    args,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  if (positionals.length !== 1) {
    throw new UsageError(`expected one <what>, got ${positionals.length}`);
  }
  const what = positionals[0] as string;
  const count = wholeNumber('--count', values.count, 1, 1_000_000);
  const concurrency = wholeNumber('--concurrency', values.concurrency, 1, 1_000);
  // The local stack's settings are read only when a flag leaves something to default.
  let target: LocalTarget | undefined;
  const local = () => {
    target ??= readLocalTarget();
    return target;
  };
  let secret = values.secret;
  let url = values.url;
  if (values.stack !== undefined && (secret === undefined || url === undefined)) {
    const stack = await resolveStack({ ...values, stack: values.stack });
    try {
      url ??= await webhookUrlToRegister(stack);
      secret ??= (await readWebhookSecret(stack)).current;
    } catch (error) {
      if (error instanceof StackResolutionError) throw error;
      throw new StackResolutionError(
        `cannot read the webhook secret of stack ${stack.name}: ${describeError(error)}`,
      );
    } finally {
      stack.clients.destroy();
    }
  }
  // Locally, a pushed export names a file the fake Datasaur API serves, which the local
  // exporter admits (DATASAUR_API_URL's origin): `send -- export` ends ARCHIVED.
  const toLocalStack = url === undefined;
  secret ??= defaultSecret(local().config);
  url ??= local().webhookUrl();
  const ids = { projectId: values.project, documentId: values.document };
  const labels =
    values.labels === undefined ? undefined : wholeNumber('--labels', values.labels, 0, 1_000_000);
  if (labels !== undefined && what !== 'BEFORE_UPDATE_LABELS') {
    throw new UsageError(`--labels applies to BEFORE_UPDATE_LABELS only, not to ${what}`);
  }
  const fileUrl = values['file-url'];
  if (fileUrl !== undefined && what !== 'export') {
    throw new UsageError(`--file-url applies to export only, not to ${what}`);
  }
  if (fileUrl !== undefined && !URL.canParse(fileUrl)) {
    throw new UsageError(`--file-url must be a URL, got "${fileUrl}"`);
  }
  return {
    label: what,
    url,
    count,
    summarize: values.count !== undefined,
    concurrency,
    request: bodies(
      what,
      {
        ...ids,
        labels,
        fileUrl:
          fileUrl ?? (toLocalStack && what === 'export' ? pushedFileUrl(ids.projectId) : undefined),
      },
      secret,
    ),
  };
}

function bodies(
  what: string,
  ids: {
    projectId: string | undefined;
    documentId: string | undefined;
    labels: number | undefined;
    fileUrl: string | undefined;
  },
  secret: string,
): (index: number) => DatasaurRequest {
  if (isSeedEventType(what)) {
    const carriesProject = what !== 'BEFORE_UPDATE_LABELS';
    if (ids.projectId !== undefined && !carriesProject) {
      throw new UsageError(`${what} carries no project id: --project does not apply`);
    }
    if (ids.documentId !== undefined && carriesProject) {
      throw new UsageError(`${what} carries no document id: --document does not apply`);
    }
    const nextTimestamp = freshTimestamps();
    const { labels, fileUrl: _fileUrl, ...overrides } = ids;
    return () =>
      signDatasaurRequest(
        seedEventBody(what, {
          ...overrides,
          timestamp: nextTimestamp(),
          ...(labels === undefined ? {} : { labels }),
        }),
        secret,
      );
  }
  if (what === 'export') {
    const { labels: _labels, ...overrides } = ids;
    const request = signDatasaurRequest(exportDeliveryBody(overrides), secret, 'PUT');
    return () => request;
  }
  if (ids.projectId !== undefined || ids.documentId !== undefined) {
    throw new UsageError('--project and --document apply to event types and export, not to files');
  }
  if (!statSync(what, { throwIfNoEntry: false })?.isFile()) {
    throw new UsageError(`"${what}" is neither an event type, export, nor a file`);
  }
  const request = signDatasaurRequest(readFileSync(what), secret);
  return () => request;
}

function isSeedEventType(what: string): what is SeedEventType {
  return (SEED_EVENT_TYPES as string[]).includes(what);
}

function wholeNumber(flag: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined) return min;
  return numberFlag(flag.replace(/^--/, ''), raw, { min, max });
}

function defaultSecret(config: LocalStackConfig): string {
  const secret = signingSecret(config.webhookSecrets, config.dataDir);
  if (secret === undefined) {
    throw new ConfigurationError(
      `no secret to sign with: pass --secret, set DATASAUR_WEBHOOK_SECRET, or run npm start once (it saves a dev secret in ${config.dataDir})`,
    );
  }
  return secret;
}

async function send(plan: SendPlan): Promise<SendOutcome[]> {
  const limited = limitConcurrency(plan.concurrency);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: plan.count }, (_, index) =>
      limited(async () => {
        const outcome = await sendDatasaurRequest(plan.url, plan.request(index));
        console.log(describeOutcome(plan.label, outcome));
        return outcome;
      }),
    ),
  );
  if (plan.summarize) console.log(summary(outcomes, performance.now() - started));
  return outcomes;
}

function describeOutcome(label: string, outcome: SendOutcome): string {
  if (outcome.status === undefined) {
    return `failed ${label} ${outcome.eventId}: ${outcome.detail} (is npm start running?)`;
  }
  const detail = isSuccess(outcome) ? '' : `  ${outcome.detail}`;
  return `${outcome.status} ${label} ${outcome.eventId}${detail}`;
}

function summary(outcomes: readonly SendOutcome[], elapsedMs: number): string {
  const byStatus = new Map<number, number>();
  for (const outcome of outcomes) {
    if (isSuccess(outcome) && outcome.status !== undefined) {
      byStatus.set(outcome.status, (byStatus.get(outcome.status) ?? 0) + 1);
    }
  }
  const accepted = [...byStatus.values()].reduce((total, count) => total + count, 0);
  const statuses = [...byStatus].map(([status, count]) => `${status}: ${count}`).join(', ');
  const seconds = elapsedMs / 1000;
  return [
    `sent ${outcomes.length}`,
    `accepted ${accepted}${statuses === '' ? '' : ` (${statuses})`}`,
    `failed ${outcomes.length - accepted}`,
    `in ${seconds.toFixed(2)} s (${(outcomes.length / seconds).toFixed(1)} requests/s)`,
  ].join(', ');
}

function isSuccess(outcome: SendOutcome): boolean {
  return outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
}

endQuietlyWhenReaderCloses();
let plan: SendPlan | 'help';
try {
  loadDotEnv();
  plan = await planFromArguments(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`npm run send: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof ConfigurationError || error instanceof StackResolutionError) {
    console.error(`npm run send: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
if (plan === 'help') {
  console.log(USAGE);
} else {
  const outcomes = await send(plan);
  if (!outcomes.every(isSuccess)) process.exitCode = 1;
}

/**
 * The file a locally sent export delivery names: one the fake Datasaur API (at
 * DATASAUR_API_URL, else where `npm run fake-datasaur` listens) makes on request. The same for
 * the same project, so a delivery sent again is a duplicate, as documented.
 */
function pushedFileUrl(projectId: string | undefined): string {
  const apiUrl = (process.env.DATASAUR_API_URL || DEFAULT_LOCAL_DATASAUR_API_URL).replace(
    /\/+$/,
    '',
  );
  const name = encodeURIComponent(projectId ?? SEED_EXPORT_DELIVERY.projectId);
  return `${apiUrl}/files/pushed-${name}/${name}.zip`;
}

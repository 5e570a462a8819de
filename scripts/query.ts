/**
 * `npm run query -- <command>`: the six access patterns from the command line, against the
 * local stack by default or a deployed table (`--table` and `--region`).
 */
import './local/sdk-notice.ts';
import type { parseArgs } from 'node:util';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { shownUrl } from '../shared/export/download.ts';
import { EXPORT_STATUSES } from '../shared/store/items.ts';
import {
  createQueries,
  InvalidQueryError,
  MAX_PAGE_SIZE,
  type Page,
  PROJECT_STATUSES,
  type View,
} from '../shared/store/queries.ts';
import { IndexNotDeployedError } from '../shared/store/table.ts';
import { BodyObjectMismatchError } from '../shared/webhook/claim-check.ts';
import { STACK_OPTIONS, stackUsage } from './deployed/stack.ts';
import { numberFlag, parseFlags, runCommandLine, UsageError } from './local/cli.ts';
import { LOCAL_SERVERS_HOST } from './local/defaults.ts';
import { archiveBeside, connectTable } from './local/table-connection.ts';

const USAGE = `Usage: npm run query -- <command> [flags]

Commands:
  project <projectId>                       one project: status, name, team, who completed/reviewed it
  projects --team <teamId> [--status CREATED|COMPLETED|REVIEWED] [--since <ISO time>]
                                            a team's projects, newest status change first
  events --project <projectId>              a project's events and export deliveries, oldest first
  labels --document <documentId>            a document's label events, oldest first
  labels --project <projectId>              a project's label events across its documents, newest first
                                            (once the enrichment has learned the documents' project)
  feed [--from <ISO time>] [--to <ISO time>]
                                            every event received in [from, to) (default: last 24 hours)
  rejected [--from <ISO time>] [--to <ISO time>]
                                            rejected bodies and unknown event types (default: last 7 days)
  exports --project <projectId> | --team <teamId> | --status WAITING|REQUESTED|ARCHIVED|FAILED
                                            archived exports: S3 key, size, sha256, status (flags combine)
  reconcile                                 reconcile runs, newest first: gaps found, repaired, errors
  event <eventId>                           one event by its id, whatever its type (the id the
                                            ingest's 202 answer, the logs and the bus carry); a
                                            stored event before a rejected body of the same id

Flags:
  --limit <1-${MAX_PAGE_SIZE}>     items per page (default 50)
  --cursor <cursor>     the next page, as printed after the previous one
  --json                JSON output (also whenever stdout is not a terminal)
  --table <name>        table name (default $TABLE_NAME, else datasaur-webhooks)
  --endpoint <url>      DynamoDB endpoint (default $DYNAMODB_ENDPOINT, else the local stack's
                        http://${LOCAL_SERVERS_HOST}:$DYNAMODB_PORT, as npm start reads it, .env included;
                        with --table or --region and no endpoint, DynamoDB in AWS)
${stackUsage()}

Events too large for their item are read whole from the archive bucket: locally from
$S3_ENDPOINT, else the local stack's http://${LOCAL_SERVERS_HOST}:$S3_PORT; for a deployed
table from S3 in AWS.
`;

const OPTIONS = {
  team: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  project: { type: 'string' },
  document: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  json: { type: 'boolean' },
  table: { type: 'string' },
  endpoint: { type: 'string' },
  ...STACK_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

const COMMON_FLAGS = [
  'limit',
  'cursor',
  'json',
  'table',
  'endpoint',
  'stack',
  'region',
  'profile',
  'help',
];
const COMMANDS: Record<string, { flags: string[]; positionals: number }> = {
  project: { flags: [], positionals: 1 },
  projects: { flags: ['team', 'status', 'since'], positionals: 0 },
  events: { flags: ['project'], positionals: 0 },
  labels: { flags: ['document', 'project'], positionals: 0 },
  feed: { flags: ['from', 'to'], positionals: 0 },
  rejected: { flags: ['from', 'to'], positionals: 0 },
  exports: { flags: ['project', 'team', 'status'], positionals: 0 },
  reconcile: { flags: [], positionals: 0 },
  event: { flags: [], positionals: 1 },
};

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

function parseCommandLine(args: string[]) {
  const { values, positionals } = parseFlags({
    args,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [command, ...rest] = positionals;
  if (values.help) return { command: 'help', values, rest };
  const spec = command === undefined ? undefined : COMMANDS[command];
  if (command === undefined || spec === undefined) {
    throw new UsageError(
      command === undefined ? 'no command given' : `unknown command "${command}"`,
    );
  }
  if (rest.length !== spec.positionals) {
    throw new UsageError(
      `"${command}" takes ${spec.positionals || 'no'} argument(s), got ${rest.length}`,
    );
  }
  for (const flag of Object.keys(values)) {
    if (!spec.flags.includes(flag) && !COMMON_FLAGS.includes(flag)) {
      throw new UsageError(`"${command}" does not take --${flag}`);
    }
  }
  if (command === 'project' && (rest[0] ?? '').trim() === '') {
    throw new UsageError('"project" needs a project id, got an empty one');
  }
  if (command === 'event' && !EVENT_ID.test(rest[0] ?? '')) {
    throw new UsageError(
      `an event id is 64 hex digits (a reconciler's event: reconcile-<STATUS>-<20 hex digits>), got "${rest[0]}": the table view shows only the first 12 characters, --json shows them whole`,
    );
  }
  return { command, values, rest };
}

/** A webhook's id (the SHA-256 of its body) or a reconciler's synthetic event id. */
const EVENT_ID = /^(?:[0-9a-f]{64}|reconcile-[A-Z_]+-[0-9a-f]{20})$/;

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

function limitOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return numberFlag('limit', value, { min: 1, max: MAX_PAGE_SIZE });
}

/** `--status` as one of `statuses` (any case), or undefined when not given. */
function statusOf<Status extends string>(
  statuses: readonly Status[],
  value: string | undefined,
): Status | undefined {
  if (value === undefined) return undefined;
  const status = value.toUpperCase() as Status;
  if (!statuses.includes(status)) {
    throw new UsageError(`--status must be one of ${statuses.join(', ')}`);
  }
  return status;
}

const HOUR_MS = 3_600_000;

function rangeOf(values: Values, defaultHours: number): { from: string; to: string } {
  const now = Date.now();
  return {
    from: values.from ?? new Date(now - defaultHours * HOUR_MS).toISOString(),
    to: values.to ?? new Date(now).toISOString(),
  };
}

async function connect(values: Values) {
  const connection = await connectTable(values);
  const archive = archiveBeside(connection);
  return {
    ...connection,
    close: () => {
      connection.close();
      archive.close();
    },
    queries: createQueries(connection.documents, connection.tableName, {
      bodies: archive.bodies,
    }),
  };
}

/** Columns of the readable table, per command. */
const short = (value: unknown) => String(value ?? '').slice(0, 12);
const COLUMNS: Record<string, [string, (view: View) => unknown][]> = {
  projects: [
    ['projectId', (view) => view.projectId],
    ['status', (view) => view.status],
    ['statusAt', (view) => view.statusAt],
    ['name', (view) => view.name],
    ['teamId', (view) => view.teamId],
  ],
  events: [
    [
      'time',
      (view) => (view.data as { timestamp?: string } | undefined)?.timestamp ?? view.receivedAt,
    ],
    ['eventType', (view) => view.eventType],
    ['eventId', (view) => short(view.eventId)],
    ['detail', (view) => eventDetail(view)],
  ],
  labels: [
    ['timestamp', (view) => (view.data as { timestamp?: string }).timestamp],
    ['eventId', (view) => short(view.eventId)],
    ['upserts', (view) => labelCount(view, 'toUpsertList')],
    ['deletes', (view) => labelCount(view, 'toDeleteList')],
    ['owner', (view) => (view.data as { owner?: { email?: string } }).owner?.email],
  ],
  projectLabels: [
    ['eventTime', (view) => view.eventTime],
    ['documentId', (view) => view.documentId],
    ['eventId', (view) => short(view.eventId)],
    ['receivedAt', (view) => view.receivedAt],
  ],
  feed: [
    ['receivedAt', (view) => view.receivedAt],
    ['itemType', (view) => view.itemType],
    ['eventType', (view) => view.eventType],
    ['subject', (view) => view.projectId ?? view.documentId],
    ['eventId', (view) => short(view.eventId)],
  ],
  exports: [
    ['requestedAt', (view) => view.requestedAt],
    ['projectId', (view) => view.projectId],
    ['trigger', (view) => view.trigger],
    ['status', (view) => view.status],
    ['bytes', (view) => view.bytes],
    ['sha256', (view) => short(view.sha256)],
    [
      'key or reason',
      (view) => (view.reasonCode === undefined ? view.key : `${view.reasonCode}: ${view.reason}`),
    ],
  ],
  reconcile: [
    ['startedAt', (view) => view.startedAt],
    ['outcome', (view) => `${view.outcome}${view.dryRun === true ? ' (dry run)' : ''}`],
    ['checked', (view) => view.projectsChecked],
    ['missing', (view) => (view.compared as Record<string, number> | undefined)?.missing],
    ['behind', (view) => (view.compared as Record<string, number> | undefined)?.behind],
    ['repaired', (view) => view.repaired],
    ['errors', (view) => (view.errors as string[] | undefined)?.join('; ').slice(0, 80)],
  ],
  rejected: [
    ['receivedAt', (view) => view.receivedAt],
    ['itemType', (view) => view.itemType],
    ['eventId', (view) => short(view.eventId)],
    ['reason or eventType', (view) => view.reason ?? view.eventType],
  ],
};

function eventDetail(view: View): string {
  const data = (view.data ?? {}) as Record<string, { email?: string; id?: string } | string>;
  // The link is pre-signed, a credential: only where it points is shown.
  if (view.itemType === 'export') {
    return view.fileUrlRemovedBecause === undefined
      ? shownUrl(String(data.fileUrl))
      : `link removed (export ${view.fileUrlRemovedBecause})`;
  }
  const person = data.labeler ?? data.reviewer;
  return typeof person === 'object' && person !== null ? `by ${person.email ?? person.id}` : '';
}

function labelCount(view: View, list: 'toUpsertList' | 'toDeleteList'): number {
  const data = view.data as { labelUpdateList?: Record<string, unknown[]> };
  return data.labelUpdateList?.[list]?.length ?? 0;
}

function renderTable(rows: string[][]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function printPage(command: string, page: Page, nextPageHint: string): void {
  const columns = COLUMNS[command] ?? [];
  const rows = page.items.map((view) => columns.map(([, cell]) => String(cell(view) ?? '')));
  console.log(
    page.items.length === 0
      ? '(nothing found)'
      : renderTable([columns.map(([name]) => name), ...rows]),
  );
  if (page.cursor !== undefined)
    console.log(`\nnext page: ${nextPageHint} --cursor ${page.cursor}`);
}

function printLabelCounts(projectId: string, counts: View | undefined): void {
  console.log(
    counts === undefined
      ? `project ${projectId}: not counted yet (the enrichment step counts a project it resolves)`
      : `project ${projectId}: ${counts.documentCount} documents, ${counts.labelEventCount} label events (counted ${counts.countedAt})\n`,
  );
}

function printProject(view: View): void {
  const rows = Object.entries(view).map(([name, value]) => [
    name,
    typeof value === 'object' ? JSON.stringify(value) : String(value),
  ]);
  console.log(renderTable(rows));
}

/** `--stack`, `--region` and `--profile` as given, for the next-page hint. */
function stackFlagsOf(values: Values): string {
  return (['stack', 'region', 'profile', 'table'] as const)
    .filter((flag) => values[flag] !== undefined)
    .map((flag) => ` --${flag} ${values[flag]}`)
    .join('');
}

async function run(args: string[]): Promise<number> {
  const { command, values, rest } = parseCommandLine(args);
  if (command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const asJson = values.json === true || !process.stdout.isTTY;
  const connection = await connect(values);
  const { queries } = connection;
  const page = { limit: limitOf(values.limit), cursor: values.cursor };
  try {
    if (command === 'project') {
      const projectId = rest[0] as string;
      const project = await queries.project(projectId);
      if (project === undefined) {
        console.error(`no project ${projectId} in table ${connection.tableName}`);
        return 1;
      }
      if (asJson) console.log(JSON.stringify(project, null, 2));
      else printProject(project);
      return 0;
    }
    if (command === 'event') {
      const eventId = rest[0] as string;
      const [event, ...others] = await queries.eventItems(eventId);
      if (event === undefined) {
        console.error(`no event ${eventId} in table ${connection.tableName}`);
        return 1;
      }
      if (asJson) console.log(JSON.stringify(event, null, 2));
      else printProject(event);
      // A rejected body that a replay stored but could not publish stays beside its event.
      for (const other of others) {
        console.error(
          `also stored as ${String(other.itemType)}, received at ${String(other.receivedAt)}`,
        );
      }
      return 0;
    }
    let result: Page;
    let printed = command;
    let hint = `npm run query -- ${command}${stackFlagsOf(values)}`;
    if (command === 'projects') {
      const teamId = required(values.team, 'team');
      result = await queries.teamProjects(
        { teamId, status: statusOf(PROJECT_STATUSES, values.status), since: values.since },
        page,
      );
      hint += ` --team ${teamId}${values.status ? ` --status ${values.status}` : ''}${values.since ? ` --since ${values.since}` : ''}`;
    } else if (command === 'events') {
      const projectId = required(values.project, 'project');
      result = await queries.projectHistory(projectId, page);
      hint += ` --project ${projectId}`;
    } else if (command === 'exports') {
      const filter = {
        projectId: values.project,
        teamId: values.team,
        status: statusOf(EXPORT_STATUSES, values.status),
      };
      if (Object.values(filter).every((value) => value === undefined)) {
        throw new UsageError('exports needs --project, --team or --status');
      }
      result = await queries.exports(filter, page);
      for (const flag of ['project', 'team', 'status'] as const) {
        if (values[flag] !== undefined) hint += ` --${flag} ${values[flag]}`;
      }
    } else if (command === 'reconcile') {
      result = await queries.reconcileRuns(page);
    } else if (command === 'labels' && values.project !== undefined) {
      if (values.document !== undefined) {
        throw new UsageError('labels takes --document or --project, not both');
      }
      const projectLabels = await queries.projectLabels(values.project, page);
      if (!asJson) printLabelCounts(values.project, projectLabels.counts);
      result = projectLabels;
      printed = 'projectLabels';
      hint += ` --project ${values.project}`;
    } else if (command === 'labels') {
      const documentId = required(values.document, 'document');
      result = await queries.documentLabels(documentId, page);
      hint += ` --document ${documentId}`;
    } else {
      const range = rangeOf(values, command === 'feed' ? 24 : 7 * 24);
      result =
        command === 'feed'
          ? await queries.feed(range, page)
          : await queries.rejectedAndUnknown(range, page);
      // The resolved range, so the next page reads the same partitions whatever the time.
      hint += ` --from ${range.from} --to ${range.to}`;
    }
    if (asJson) console.log(JSON.stringify(result, null, 2));
    else printPage(printed, result, hint);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof InvalidQueryError) throw new UsageError(error.message);
    if (error instanceof IndexNotDeployedError) {
      console.error(error.message);
      return 1;
    }
    if (error instanceof DynamoDBServiceException && error.name === 'ResourceNotFoundException') {
      console.error(
        `table ${connection.tableName} does not exist at ${connection.where} (pass --table <name>)`,
      );
      return 1;
    }
    if (error instanceof S3ServiceException || error instanceof BodyObjectMismatchError) {
      console.error(`cannot read a large event's body from the archive bucket: ${error.message}`);
      return 1;
    }
    if (error instanceof DynamoDBServiceException) {
      console.error(
        `DynamoDB at ${connection.where} refused the query: ${error.name}: ${error.message}`,
      );
      return 1;
    }
    const reason = error instanceof Error ? error.message || error.name : String(error);
    console.error(
      `cannot reach DynamoDB at ${connection.where}: ${reason} (is \`npm start\` running?)`,
    );
    return 1;
  } finally {
    connection.close();
  }
}

await runCommandLine(run, USAGE, { prefix: 'npm run query: ' });

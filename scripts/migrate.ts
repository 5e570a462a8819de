/**
 * `npm run migrate`: brings a table's items to the layout this code writes, step by step
 * (shared/store/migrations.ts), against the local stack by default, a deployed stack's table
 * (`--stack`) or a deployed table (`--table`, `--region`). Resumable: Ctrl-C stops after the page under way, and the next run
 * continues from there.
 */
import './local/sdk-notice.ts';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { LATEST_VERSION, MIGRATION_STEPS, migrateTable } from '../shared/store/migrations.ts';
import { STACK_OPTIONS, stackUsage } from './deployed/stack.ts';
import { numberFlag, parseFlags, runCommandLine } from './local/cli.ts';
import { connectTable } from './local/table-connection.ts';

const USAGE = `Usage: npm run migrate -- [flags]

Rewrites the table's items in place, one versioned step after another, up to version ${LATEST_VERSION}:
${MIGRATION_STEPS.map((step) => `  ${step.version}. ${step.name}`).join('\n')}
The table keeps the version it reached in its MIGRATION/VERSION item. Each step reads the
whole table (a Scan) and rewrites only the items it changes: running it again rewrites
nothing. Ctrl-C stops after the current page; the next run resumes there.

Flags:
  --dry-run             count what each step would rewrite; write nothing
  --page-size <n>       items per scan page, 1-1000 (default 500)
  --table <name>        table name (default $TABLE_NAME, else datasaur-webhooks; alone: a deployed table)
  --endpoint <url>      DynamoDB endpoint (default $DYNAMODB_ENDPOINT, else the local stack's)
${stackUsage()}
  -h, --help            this text
`;

const OPTIONS = {
  'dry-run': { type: 'boolean' },
  'page-size': { type: 'string' },
  table: { type: 'string' },
  endpoint: { type: 'string' },
  ...STACK_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

async function run(args: string[]): Promise<number> {
  const { values } = parseFlags({ args, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const pageSize =
    values['page-size'] === undefined
      ? undefined
      : numberFlag('page-size', values['page-size'], { min: 1, max: 1000 });
  const dryRun = values['dry-run'] === true;
  const connection = await connectTable(values);
  const stop = new AbortController();
  const onSignal = () => {
    console.log('stopping after the current page (run again to resume)');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  try {
    const result = await migrateTable(connection.documents, connection.tableName, {
      dryRun,
      ...(pageSize && { pageSize }),
      signal: stop.signal,
      onProgress: ({ step, scanned, rewritten, done }) =>
        console.log(
          `step ${step.version} (${step.name}): ${scanned} items read, ${rewritten} ${dryRun ? 'to rewrite' : 'rewritten'}${done ? ', done' : ''}`,
        ),
    });
    const prefix = dryRun ? 'dry run: ' : '';
    if (result.stopped) {
      console.log(`${prefix}stopped at version ${result.to}; run again to resume`);
      return 1;
    }
    console.log(
      result.from === result.to
        ? `${prefix}table ${connection.tableName} is at version ${result.to}: nothing to do`
        : `${prefix}table ${connection.tableName} ${dryRun ? 'would move' : 'moved'} from version ${result.from} to ${result.to}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof DynamoDBServiceException && error.name === 'ResourceNotFoundException') {
      console.error(
        `table ${connection.tableName} does not exist at ${connection.where} (pass --table <name>)`,
      );
      return 1;
    }
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`migration stopped: DynamoDB at ${connection.where}: ${reason}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    connection.close();
  }
}

await runCommandLine(run, USAGE, { prefix: 'npm run migrate: ' });

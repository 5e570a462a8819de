/**
 * `npm run setup -- --stack <name>`: what a freshly deployed stack needs before it goes live.
 * Shows the webhook URL and secret to register with Datasaur, stores the Datasaur API
 * credentials in the stack's secret once Datasaur's token endpoint accepts them, and says what
 * they enable. Re-runnable; rotating either secret is a flag.
 */
import './local/sdk-notice.ts';
import { createInterface } from 'node:readline';
import { DEFAULT_DATASAUR_API_URL } from '../shared/datasaur/client.ts';
import { CredentialsMissingError } from '../shared/datasaur/credentials-secret.ts';
import type { DatasaurCredentials } from '../shared/datasaur/get-access-token.ts';
import { describeError } from '../shared/runtime/errors.ts';
import {
  checkDatasaurCredentials,
  dropPreviousWebhookSecret,
  readDatasaurCredentials,
  readWebhookSecret,
  rotateWebhookSecret,
  storeDatasaurCredentials,
  type WebhookSecret,
} from './deployed/secrets.ts';
import {
  type DeployedStack,
  resolveStack,
  STACK_OPTIONS,
  StackResolutionError,
  stackUsage,
  webhookUrlsToRegister,
} from './deployed/stack.ts';
import { parseFlags, runCommandLine, UsageError } from './local/cli.ts';

const USAGE = `Usage: npm run setup -- --stack <name> [flags]

Prepares a deployed stack to go live, and can be run again at any time:
  1. shows the webhook URL and secret to register with Datasaur, and how;
  2. asks for the Datasaur API credentials (client id and secret, from Datasaur's workspace
     settings, Credentials) when the stack has none yet, without echoing them (from standard
     input, one per line, when it is not a terminal), checks them against Datasaur's token
     endpoint and stores them in the stack's secret; says what they enable.

Flags:
${stackUsage(34)}
  --rotate-webhook-secret         make a new webhook secret; the previous one stays valid until
                                  --finish-webhook-rotation (send Datasaur the new one first)
  --finish-webhook-rotation       end a rotation: only the current secret verifies from now on
  --rotate-credentials            ask for new Datasaur API credentials even if some are stored
`;

const OPTIONS = {
  ...STACK_OPTIONS,
  'rotate-webhook-secret': { type: 'boolean' },
  'finish-webhook-rotation': { type: 'boolean' },
  'rotate-credentials': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function run(args: string[]): Promise<number> {
  const { values } = parseFlags({ args, options: OPTIONS, strict: true });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.stack === undefined) {
    throw new UsageError(
      '--stack is required: setup prepares a deployed stack (locally, .env holds the secrets: docs/local-stack.md)',
    );
  }
  if (values['rotate-webhook-secret'] && values['finish-webhook-rotation']) {
    throw new UsageError(
      '--rotate-webhook-secret and --finish-webhook-rotation are two steps: run them apart, Datasaur confirming the new secret in between',
    );
  }
  const stack = await resolveStack({ ...values, stack: values.stack });
  try {
    await showWebhook(stack, {
      rotate: values['rotate-webhook-secret'] === true,
      dropPrevious: values['finish-webhook-rotation'] === true,
    });
    const status = await setUpCredentials(stack, values['rotate-credentials'] === true);
    console.log(`\nThen check the whole path: npm run doctor -- --stack ${stack.name}`);
    return status;
  } catch (error) {
    if (error instanceof StackResolutionError || error instanceof UsageError) throw error;
    console.error(`npm run setup: stack ${stack.name}: ${describeError(error)}`);
    return 1;
  } finally {
    stack.clients.destroy();
  }
}

async function showWebhook(
  stack: DeployedStack,
  { rotate, dropPrevious }: { rotate: boolean; dropPrevious: boolean },
): Promise<void> {
  // Read before a rotation, so that a stack whose URL cannot be read is left as it was.
  const urls = await webhookUrlsToRegister(stack);
  let secret: WebhookSecret;
  if (rotate) {
    secret = await rotateWebhookSecret(stack);
    console.log('Rotated the webhook secret: a new current secret; the old one stays valid.');
  } else if (dropPrevious) {
    secret = await dropPreviousWebhookSecret(stack);
    console.log(
      'Dropped the previous webhook secret: once the ingest refreshes its cache (WEBHOOK_SECRET_CACHE_SECONDS, 300 s by default), only the current one verifies.',
    );
  } else {
    secret = await readWebhookSecret(stack);
  }
  const onceConfirmed = [
    ...(secret.previous === undefined ? [] : ['drop the previous secret (flag above)']),
    ...(urls.previous === undefined
      ? []
      : ['deploy without -c previousWebhookPathToken (the previous URL then gets 404)']),
    ...(urls.released === undefined
      ? []
      : ["deploy without -c keepReleasedWebhookRoute (0.1.0's URL then gets 404)"]),
  ];
  console.log(`
Stack ${stack.name} in ${stack.region}, version ${stack.outputs.version ?? 'unknown'}

Webhook to register with Datasaur:
  URL     ${urls.current}${
    urls.previous === undefined
      ? ''
      : `\n  (the previous URL, still routed until a deploy without -c previousWebhookPathToken: ${urls.previous})`
  }${
    urls.released === undefined
      ? ''
      : `\n  (0.1.0's URL, still routed until a deploy without -c keepReleasedWebhookRoute: ${urls.released})`
  }
  secret  ${secret.current}${
    secret.previous === undefined
      ? ''
      : `\n  (the previous secret is still accepted until: npm run setup -- --stack ${stack.name} --finish-webhook-rotation)`
  }

Datasaur has no screen or API for webhooks: e-mail Datasaur support the URL and the secret,
over a channel you trust, and ask them to send every event type to it. Once they confirm,
${onceConfirmed.length === 0 ? 'events arrive signed with this secret.' : `${onceConfirmed.join(', and ')}.`}`);
}

/** Returns the exit code: 1 when the credentials given were refused. */
async function setUpCredentials(stack: DeployedStack, rotate: boolean): Promise<number> {
  const enables = enabledBy(stack);
  if (stack.outputs.datasaurCredentialsSecretArn === undefined) {
    console.log(
      '\nDatasaur API credentials: not used by this stack (export archiving and the reconciler are off; deploy with -c exportOn=REVIEWED or -c datasaurTeamIds=… to use them).',
    );
    return 0;
  }
  const apiUrl = stack.outputs.datasaurApiUrl ?? DEFAULT_DATASAUR_API_URL;
  if (!rotate) {
    try {
      const stored = await readDatasaurCredentials(stack);
      const problem = await checkDatasaurCredentials(apiUrl, stored);
      if (problem === undefined) {
        console.log(
          `\nDatasaur API credentials: stored for client ${stored.clientId}, and ${apiUrl} accepts them.\nThey enable ${enables}. (New ones: --rotate-credentials)`,
        );
        return 0;
      }
      console.log(`\nThe stored Datasaur API credentials fail: ${problem}. Enter new ones.`);
    } catch (error) {
      if (!(error instanceof CredentialsMissingError)) throw error;
      console.log(
        "\nDatasaur API credentials: none stored yet. Create them in Datasaur's workspace settings, Credentials.",
      );
    }
  }
  const credentials = await askForCredentials();
  const problem = await checkDatasaurCredentials(apiUrl, credentials);
  if (problem !== undefined) {
    console.error(`Not stored: ${problem}`);
    return 1;
  }
  await storeDatasaurCredentials(stack, credentials);
  console.log(
    `Stored the credentials of client ${credentials.clientId} in the stack's secret; ${apiUrl} accepts them.\nThey enable ${enables}; the functions read the new value within a few minutes (their cache).`,
  );
  return 0;
}

function enabledBy(stack: DeployedStack): string {
  const uses = [
    ...(stack.outputs.exportQueueUrl === undefined
      ? []
      : [
          `export archiving (each project's export copied under exports/ of ${stack.outputs.archiveBucketName === undefined ? 'the archive bucket' : `s3://${stack.outputs.archiveBucketName}`})`,
        ]),
    ...(stack.outputs.reconcilerLogGroupName === undefined
      ? []
      : ["the reconciler (repairs what no webhook delivered, on the stack's schedule)"]),
  ];
  return uses.length === 0 ? 'npm run reconcile -- --stack <name>' : uses.join(' and ');
}

/** Two values without echo: a prompt on a terminal, else two lines of standard input. */
async function askForCredentials(): Promise<DatasaurCredentials> {
  const clientId = (await readHidden('Datasaur client id: ')).trim();
  const clientSecret = (await readHidden('Datasaur client secret: ')).trim();
  if (clientId === '' || clientSecret === '') {
    throw new UsageError('the client id and the client secret must both be given');
  }
  return { clientId, clientSecret };
}

let stdinLines: AsyncIterator<string> | undefined;

async function readHidden(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    stdinLines ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    const next = await stdinLines.next();
    if (next.done === true) {
      throw new UsageError('standard input ended before the client id and secret were read');
    }
    return next.value;
  }
  process.stdout.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  let value = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (const character of chunk.toString('utf8')) {
          if (character === '\r' || character === '\n') {
            stdin.off('data', onData);
            resolve(value);
            return;
          }
          if (character === '\u0003') {
            stdin.off('data', onData);
            reject(new UsageError('cancelled'));
            return;
          }
          if (character === '\u007f') value = value.slice(0, -1);
          else value += character;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stdout.write('\n');
  }
}

await runCommandLine(run, USAGE, { prefix: 'npm run setup: ' });
// The line reader over a piped standard input would keep the process alive.
process.stdin.destroy();

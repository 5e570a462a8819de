/**
 * Operating a stack by its name: the CLIs given `--stack X` find every resource through
 * CloudFormation's DescribeStacks (our stand-in) whose outputs point at a local stack started
 * here, and the webhook URL's path token through API Gateway's GetRoutes (the same stand-in),
 * with the real SDK clients configured by AWS_ENDPOINT_URL_* as a user's would be by their AWS
 * configuration. `npm run doctor` runs against the same local stack without --stack.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeDatasaur, startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import {
  type LocalSecretsManager,
  startLocalSecretsManager,
} from '../scripts/local/secrets-manager-server.ts';
import { localSqs, queueArn } from '../scripts/local/servers.ts';
import { DATASAUR_CREDENTIALS_TEMPLATE } from '../shared/datasaur/credentials-secret.ts';
import {
  type CloudFormationStandIn,
  startCloudFormationStandIn,
} from './support/cloudformation-stand-in.ts';
import {
  fakeDatasaurEnvironment,
  runTypeScript,
  type StackProcess,
  startStackProcess,
  stopLeftoverStacks,
  TEST_STACK_ENVIRONMENT,
} from './support/local-stack-process.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const SECRET = TEST_SECRETS.localStack;
/** The local stack's path token, as a deploy's would be: made for the run, never printed by doctor. */
const PATH_TOKEN = randomBytes(16).toString('hex');
/** A token being rotated out, still routed by the stand-in's API during the rotation. */
const PREVIOUS_PATH_TOKEN = randomBytes(16).toString('hex');
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

let dataDir: string;
let stack: StackProcess;
let secrets: LocalSecretsManager;
let datasaur: FakeDatasaur;
let cloudFormation: CloudFormationStandIn;
let webhookSecretArn: string;
let credentialsSecretArn: string;
/** What a user's shell would hold: region and credentials, and nothing pointing at a local stack. */
let awsEnvironment: NodeJS.ProcessEnv;
/** The environment of `npm start` in another terminal: what the local CLIs read. */
let localEnvironment: NodeJS.ProcessEnv;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'datasaur-operate-'));
  datasaur = await startFakeDatasaur({
    fileNotFoundCount: 0,
    projects: [{ id: 'StackProject1', status: 'COMPLETE', team: { id: '1', name: 'Team' } }],
  });
  // Export archiving on, as a deployed stack has it by default.
  stack = await startStackProcess({
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: SECRET,
    WEBHOOK_PATH_TOKEN: PATH_TOKEN,
    ...fakeDatasaurEnvironment(datasaur),
  });
  secrets = await startLocalSecretsManager();
  webhookSecretArn = secrets.putSecret('WebhookSecret', JSON.stringify({ current: SECRET }));
  credentialsSecretArn = secrets.putSecret('DatasaurCredentials', DATASAUR_CREDENTIALS_TEMPLATE);

  const sqs = localSqs(stack.sqsEndpoint);
  const queueUrl = async (name: string) =>
    String((await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl);
  const deadLetterQueueUrl = await queueUrl('datasaur-webhooks-dlq');
  const exportDeadLetterQueueUrl = await queueUrl('datasaur-webhooks-exports-dlq');
  const outputs = {
    Version: VERSION,
    ApiEndpoint: new URL(stack.webhookUrl).origin,
    ApiId: 'standinapi',
    WebhookSecretArn: webhookSecretArn,
    TableName: 'datasaur-webhooks',
    ArchiveBucketName: 'datasaur-webhooks-archive',
    QueueUrl: await queueUrl('datasaur-webhooks'),
    DeadLetterQueueUrl: deadLetterQueueUrl,
    DeadLetterQueueArn: await queueArn(sqs, deadLetterQueueUrl),
    EventBusName: 'default',
    EventSource: 'datasaur.webhooks',
    DatasaurCredentialsSecretArn: credentialsSecretArn,
    DatasaurApiUrl: datasaur.url,
    ExportQueueUrl: await queueUrl('datasaur-webhooks-exports'),
    ExportDeadLetterQueueUrl: exportDeadLetterQueueUrl,
    ExportDeadLetterQueueArn: await queueArn(sqs, exportDeadLetterQueueUrl),
  };
  sqs.destroy();
  const { TableName: _dropped, ...withoutTable } = outputs;
  const alarms = [
    { name: 'X-DeadLetterQueueNotEmpty', state: 'OK' as const },
    { name: 'X-WorkerErrors', state: 'INSUFFICIENT_DATA' as const },
  ];
  const webhookPathTokens = { current: PATH_TOKEN };
  cloudFormation = await startCloudFormationStandIn([
    { name: 'X', outputs, alarms, webhookPathTokens },
    { name: 'Older', outputs: withoutTable, alarms, webhookPathTokens },
    {
      name: 'Alarming',
      outputs,
      alarms: [{ name: 'Alarming-WorkerErrors', state: 'ALARM', reason: 'Threshold Crossed' }],
      webhookPathTokens,
    },
    {
      name: 'Rotating',
      outputs: { ...outputs, ApiId: 'rotatingapi' },
      alarms,
      webhookPathTokens: { current: PATH_TOKEN, previous: PREVIOUS_PATH_TOKEN },
    },
    // Its ApiId names no API: deleted outside CloudFormation.
    { name: 'Orphaned', outputs: { ...outputs, ApiId: 'deletedapi' }, alarms },
  ]);
  awsEnvironment = {
    ...TEST_STACK_ENVIRONMENT,
    AWS_REGION: 'us-east-1',
    // s3rver knows only its own key pair; dynalite and local-aws-sqs take any.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormation.endpoint,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudFormation.endpoint,
    AWS_ENDPOINT_URL_APIGATEWAYV2: cloudFormation.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoDbEndpoint,
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    AWS_ENDPOINT_URL_S3: stack.s3Endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: stack.eventsEndpoint,
    // Ports the local CLIs would otherwise default to: --stack must not need them.
    PORT: '1',
    DYNAMODB_PORT: '1',
    SQS_PORT: '1',
  };
  localEnvironment = {
    ...TEST_STACK_ENVIRONMENT,
    PORT: new URL(stack.webhookUrl).port,
    DYNAMODB_PORT: new URL(stack.dynamoDbEndpoint).port,
    SQS_PORT: new URL(stack.sqsEndpoint).port,
    S3_PORT: new URL(stack.s3Endpoint).port,
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: SECRET,
    WEBHOOK_PATH_TOKEN: PATH_TOKEN,
  };
}, 90_000);

afterAll(async () => {
  await stopLeftoverStacks();
  await Promise.all([secrets?.close(), datasaur?.close(), cloudFormation?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

const cli = (script: string, args: string[], env = awsEnvironment, input?: string) =>
  runTypeScript(`scripts/${script}.ts`, args, env, input);

describe('--stack: resources from the stack outputs', () => {
  it('sends to the stack and queries a project with no flag but --stack', async () => {
    const sent = await cli('send', [
      'PROJECT_CREATED',
      '--project',
      'StackProject1',
      '--stack',
      'X',
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toMatch(/^202 PROJECT_CREATED /);

    let found = await cli('query', ['--stack', 'X', 'project', 'StackProject1']);
    for (let attempt = 0; found.code !== 0 && attempt < 40; attempt += 1) {
      found = await cli('query', ['--stack', 'X', 'project', 'StackProject1']);
    }
    expect(found.code).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({
      projectId: 'StackProject1',
      status: 'CREATED',
    });
    expect(cloudFormation.calls).toContain('DescribeStacks');
  }, 120_000);

  it('exits 2 with one line for a stack that does not exist', async () => {
    const result = await cli('query', ['--stack', 'NoSuchStack', 'project', 'P']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'npm run query: stack NoSuchStack not found in us-east-1: check --stack, --region and --profile (npx cdk list shows the name)',
    ]);
  });

  it('exits 2 with one line naming the output a stack lacks', async () => {
    const result = await cli('query', ['--stack', 'Older', 'project', 'P']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('stack Older has no output TableName');
  });

  it('exits 2 with one line when there are no AWS credentials, naming the profile it read', async () => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...rest } = awsEnvironment;
    const noCredentials = {
      ...rest,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_CONFIG_FILE: join(dataDir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const withProfile = await cli('doctor', ['--stack', 'X'], {
      ...noCredentials,
      AWS_PROFILE: 'no-such-profile',
    });
    expect(withProfile.code).toBe(2);
    expect(withProfile.stderr.trim().split('\n')).toHaveLength(1);
    expect(withProfile.stderr).toMatch(
      /^npm run doctor: no AWS credentials from profile no-such-profile to describe stack X: check that `aws configure list-profiles` lists it/,
    );
    // Without a profile, it says how to give one.
    const none = await cli('doctor', ['--stack', 'X'], { ...noCredentials, AWS_PROFILE: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^npm run doctor: no AWS credentials to describe stack X: run `aws configure` or `aws sso login`, or pass --profile/,
    );
  });

  it('redrives the DLQ named by the stack outputs', async () => {
    const result = await cli('redrive', ['--stack', 'X', '--timeout-seconds', '30']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^COMPLETED: moved 0 messages from arn:aws:sqs:/);
    expect(result.code).toBe(0);
  }, 60_000);
});

describe('npm run doctor and npm run setup against a stack', () => {
  it('says the credentials secret is still empty, and exits 1', async () => {
    const result = await cli('doctor', ['--stack', 'X']);
    expect(result.stdout).toContain(
      `✓ round trip: test event accepted (202) by ${new URL(stack.webhookUrl).origin}/webhooks/datasaur/{token} and queryable`,
    );
    expect(result.stdout + result.stderr).not.toContain(PATH_TOKEN);
    expect(result.stdout).toContain(
      '✗ Datasaur credentials: the credentials secret is still empty: npm run setup -- --stack X',
    );
    expect(result.code).toBe(1);
  }, 120_000);

  it('shows the webhook to register, checks and stores the credentials read from stdin', async () => {
    const refused = await cli(
      'setup',
      ['--stack', 'X'],
      awsEnvironment,
      'wrong-id\nwrong-secret\n',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Not stored: ');
    expect(secrets.secretValue(credentialsSecretArn)).toBe(DATASAUR_CREDENTIALS_TEMPLATE);

    const result = await cli(
      'setup',
      ['--stack', 'X'],
      awsEnvironment,
      `${datasaur.clientId}\n${datasaur.clientSecret}\n`,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The full URL, path token included, read from the API's routes: no output holds it.
    expect(stack.webhookUrl).toMatch(new RegExp(`/webhooks/datasaur/${PATH_TOKEN}$`));
    expect(result.stdout).toContain(`URL     ${stack.webhookUrl}\n`);
    expect(result.stdout).not.toContain('previous URL');
    expect(cloudFormation.calls).toContain('GetRoutes');
    expect(result.stdout).toContain(`secret  ${SECRET}`);
    expect(result.stdout).toContain('e-mail Datasaur support the URL and the secret');
    expect(result.stdout).toContain(`Stored the credentials of client ${datasaur.clientId}`);
    expect(result.stdout).not.toContain(datasaur.clientSecret);
    expect(JSON.parse(secrets.secretValue(credentialsSecretArn) as string)).toEqual({
      clientId: datasaur.clientId,
      clientSecret: datasaur.clientSecret,
    });

    const again = await cli('setup', ['--stack', 'X']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      `stored for client ${datasaur.clientId}, and ${datasaur.url} accepts them`,
    );
  }, 60_000);

  it('passes every check made, with no other flag than --stack', async () => {
    const result = await cli('doctor', ['--stack', 'X']);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe(`Go-live check of stack X in us-east-1 (version ${VERSION})`);
    expect(lines.slice(1, 7).map((line) => line.split(':')[0])).toEqual([
      '✓ round trip',
      '✓ dead-letter queues',
      '✓ alarms',
      '✓ Datasaur credentials',
      '- last reconcile run',
      '- last export',
    ]);
    expect(result.stdout).toContain('✓ alarms: 2 alarm(s), none in ALARM (1 without data yet)');
    expect(result.stdout).toContain('✓ dead-letter queues: the webhook DLQ, the export DLQ empty');
    expect(result.stdout).toContain('- last export: skipped (no export archived yet');
    expect(lines[7]).toBe('6 checks: 4 ✓, 0 ✗, 2 skipped');
    expect(result.code).toBe(0);
  }, 120_000);

  it('shows the new and the previous webhook URL while the path token is rotated', async () => {
    const result = await cli('setup', ['--stack', 'Rotating']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const origin = new URL(stack.webhookUrl).origin;
    expect(result.stdout).toContain(`URL     ${origin}/webhooks/datasaur/${PATH_TOKEN}\n`);
    expect(result.stdout).toContain(
      `(the previous URL, still routed until a deploy without -c previousWebhookPathToken: ${origin}/webhooks/datasaur/${PREVIOUS_PATH_TOKEN})`,
    );
    expect(result.stdout).toContain(
      'deploy without -c previousWebhookPathToken (the previous URL then gets 404)',
    );
  }, 60_000);

  it('exits 2 with one line when the stack names an API that does not exist; doctor fails its round trip', async () => {
    const missing =
      'API Gateway in us-east-1 has no API deletedapi (output ApiId of stack Orphaned): was it deleted outside CloudFormation? Deploy again (npx cdk deploy)';
    for (const [script, args] of [
      ['setup', ['--stack', 'Orphaned']],
      ['send', ['PROJECT_CREATED', '--stack', 'Orphaned']],
    ] as const) {
      const result = await cli(script, [...args]);
      expect(result.code, script).toBe(2);
      expect(result.stdout, script).toBe('');
      expect(result.stderr.trim().split('\n'), script).toEqual([`npm run ${script}: ${missing}`]);
    }
    const doctor = await cli('doctor', ['--stack', 'Orphaned']);
    expect(doctor.stdout).toContain(`✗ round trip: ${missing}\n`);
    expect(doctor.code).toBe(1);
  }, 60_000);

  it('fails on an alarm in ALARM, saying which', async () => {
    const result = await cli('doctor', ['--stack', 'Alarming']);
    expect(result.stdout).toContain(
      '✗ alarms: Alarming-WorkerErrors is in ALARM (Threshold Crossed)',
    );
    expect(result.code).toBe(1);
  }, 120_000);

  it('rotates the webhook secret keeping the previous one valid, then drops it', async () => {
    const rotated = await cli('setup', ['--stack', 'X', '--rotate-webhook-secret']);
    expect(rotated.code).toBe(0);
    const during = JSON.parse(secrets.secretValue(webhookSecretArn) as string);
    expect(during.previous).toBe(SECRET);
    expect(during.current).not.toBe(SECRET);
    expect(rotated.stdout).toContain(`secret  ${during.current}`);
    expect(rotated.stdout).toContain('--finish-webhook-rotation');

    const dropped = await cli('setup', ['--stack', 'X', '--finish-webhook-rotation']);
    expect(dropped.code).toBe(0);
    expect(JSON.parse(secrets.secretValue(webhookSecretArn) as string)).toEqual({
      current: during.current,
    });
  }, 60_000);
});

describe('npm run doctor against npm start', () => {
  it("shows the test event's round trip ✓, and never publishes it on the bus", async () => {
    const result = await cli('doctor', [], localEnvironment);
    expect(result.stdout).toMatch(
      /^✓ round trip: test event accepted \(202\) by http:\/\/127\.0\.0\.1:\d+\/webhooks\/datasaur\/\{token\} and queryable after [\d.]+ s \(npm run query -- project datasaur-webhooks-doctor-[0-9a-f]{12}\)$/m,
    );
    expect(result.stdout).not.toContain(PATH_TOKEN);
    // The stack runs the exporter (the fake Datasaur API): its DLQ is checked too.
    expect(result.stdout).toContain(
      '✓ dead-letter queues: datasaur-webhooks-dlq, datasaur-webhooks-exports-dlq empty',
    );
    expect(result.stdout).toContain('- alarms: skipped (the local stack has no CloudWatch');
    expect(result.stdout).not.toMatch(/^✓ alarms/m);
    expect(result.code).toBe(0);

    // A real event sent after it is published; the test event, stored before it, never was.
    const sent = await cli(
      'send',
      ['PROJECT_CREATED', '--project', 'PublishedAfterDoctor'],
      localEnvironment,
    );
    expect(sent.code).toBe(0);
    const eventsFile = join(dataDir, 'events.jsonl');
    const published = () => {
      try {
        return readFileSync(eventsFile, 'utf8');
      } catch {
        return '';
      }
    };
    const deadline = Date.now() + 30_000;
    while (!published().includes('PublishedAfterDoctor') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(published()).toContain('PublishedAfterDoctor');
    expect(published()).not.toContain('datasaur-webhooks-doctor');
  }, 120_000);
});

/** Every `npm run` line of the code blocks of docs/operations.md, in order. */
function operationsCommands(): string[] {
  const text = readFileSync('docs/operations.md', 'utf8');
  // Blocks inside a list item are indented.
  return [...text.matchAll(/^ *```sh\n([\s\S]*?)^ *```$/gm)]
    .flatMap(([, block = '']) => block.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith('npm run '));
}

/** The placeholders of the docs, filled with what exists in the stand-in's stack. */
const PLACEHOLDERS: Record<string, string> = {
  '<projectId>': 'StackProject1',
  '<teamId>': '1',
};

describe('docs/operations.md', () => {
  it('names a deployed stack in every npm command, never the local one by default', () => {
    const commands = operationsCommands();
    expect(commands.length).toBeGreaterThan(15);
    expect(commands.filter((command) => !command.includes('--stack DatasaurWebhooks'))).toEqual([]);
  });

  it('has every npm command run as written against the stack (X standing in for DatasaurWebhooks)', async () => {
    const outcomes: string[] = [];
    for (const command of operationsCommands()) {
      let line = command.replaceAll('DatasaurWebhooks', 'X');
      for (const [placeholder, value] of Object.entries(PLACEHOLDERS)) {
        line = line.replaceAll(placeholder, value);
      }
      const [, script = '', rest = ''] = /^npm run (\S+)(?: -- (.*))?$/.exec(line) ?? [];
      const args = rest.split(' ').filter((arg) => arg !== '');
      const input = args.includes('--rotate-credentials')
        ? `${datasaur.clientId}\n${datasaur.clientSecret}\n`
        : undefined;
      const result = await cli(script, args, awsEnvironment, input);
      // 2 is a bad argument or an unusable stack; a stack trace is a crash.
      if (result.code === 2 || result.code === null || /\n\s+at /.test(result.stderr)) {
        outcomes.push(`${command} → exit ${result.code}: ${result.stderr.slice(0, 300)}`);
      }
    }
    expect(outcomes).toEqual([]);
  }, 600_000);
});

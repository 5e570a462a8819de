/**
 * What a bundle's first invocation needs, on local servers: a cold start is the import plus
 * the first call (clients resolve their configuration, credentials and endpoints there), so
 * the bench times both in one fresh process. The ingest gets a signed webhook, its secret
 * from a minimal Secrets Manager endpoint and a real local queue (local-aws-sqs); the worker
 * gets the queued message of a project event and stores it in dynalite, publishing to the
 * local EventBridge endpoint; the enrichment runs the scheduled pass it runs most often, one
 * that finds no document waiting for its project (a pass with work calls Datasaur's API about
 * 25 times in a row, and its time would be the local servers'); the exporter runs its
 * scheduled resume check with no export waiting (an export request downloads the file, which
 * the download guard fetches only over https from a public address: no local server can
 * answer it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RESUME_EVENT } from '../../functions/exporter/resume-handler.ts';
import { webhookPath } from '../../shared/webhook/route.ts';
import { toApiGatewayEvent } from '../local/api-gateway-event.ts';
import { seedEventBody, signDatasaurRequest } from '../local/datasaur-sender.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';
import { startLocalEventBus } from '../local/eventbridge-server.ts';
import {
  ensureQueues,
  ensureTable,
  LOCAL_CLIENT_CONFIG,
  localSqs,
  type RunningServer,
  startDynalite,
  startSqs,
} from '../local/servers.ts';
import { sqsEvent, sqsRecord } from '../local/sqs-records.ts';

/** A function's first invocation: its environment, its event, and how to tell it worked. */
export interface FirstCall {
  /**
   * The local stand-ins for what the deployed environment names by reference (queue URLs,
   * the table, the secret) and the settings the local servers need (region, endpoints,
   * credentials); the deployed function's other variables come from the template.
   */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * A new event each time, so every run stores a new event rather than a duplicate (the
   * enrichment's is a schedule's, the same each time).
   */
  readonly nextEvent: () => unknown;
  /** Throws when the handler's answer says the call did not do its work. */
  readonly check: (result: unknown) => void;
  /** What the call is, where the bench's aim should say it (the enrichment's). */
  readonly note?: string;
}

export interface FirstCallServers {
  readonly calls: Readonly<Record<'ingest' | 'worker' | 'exporter' | 'enrich', FirstCall>>;
  close(): Promise<void>;
}

const SECRET = 'bench-webhook-secret';
const TABLE_NAME = 'bench-events';

/** Answers `GetSecretValue` with `secret`, the one Secrets Manager call the ingest makes. */
async function startSecretsEndpoint(secret: string): Promise<RunningServer> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const known = request.headers['x-amz-target'] === 'secretsmanager.GetSecretValue';
      response.writeHead(known ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(
        JSON.stringify(
          known
            ? {
                ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
                SecretString: secret,
              }
            : { __type: 'UnknownOperationException' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** What the function's EventBridge schedule rule hands it every period. */
function scheduledEvent(at: Date) {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/bench-enrich'],
    detail: {},
  };
}

export async function startFirstCallServers(): Promise<FirstCallServers> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-first-call-'));
  const closers: Array<() => Promise<void>> = [
    async () => rmSync(directory, { recursive: true, force: true }),
  ];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    const secrets = await startSecretsEndpoint(SECRET);
    closers.push(secrets.close);
    const sqsServer = await startSqs();
    closers.push(sqsServer.close);
    const dynamoDbServer = await startDynalite();
    closers.push(dynamoDbServer.close);
    const eventBus = await startLocalEventBus({ eventsFile: join(directory, 'events.jsonl') });
    closers.push(eventBus.close);

    const sqs = localSqs(sqsServer.endpoint);
    const queues = await ensureQueues(sqs, {
      queueName: 'bench-first-call',
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    // The default deployment gives the worker an export queue (exportOn REVIEWED).
    const exportQueues = await ensureQueues(sqs, {
      queueName: 'bench-first-call-exports',
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
    });
    sqs.destroy();
    const dynamoDb = new DynamoDBClient({
      ...LOCAL_CLIENT_CONFIG,
      endpoint: dynamoDbServer.endpoint,
    });
    await ensureTable(dynamoDb, TABLE_NAME);
    dynamoDb.destroy();

    const common = {
      AWS_REGION: LOCAL_CLIENT_CONFIG.region,
      AWS_ACCESS_KEY_ID: LOCAL_CLIENT_CONFIG.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CLIENT_CONFIG.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDbServer.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBus.endpoint,
    };
    let runs = 0;
    // Every run the same work: the first event of a new project. One project for every run
    // would grow its partition by one event a run, and each run would read more than the last.
    const nextBody = () => {
      const run = runs++;
      return seedEventBody('PROJECT_CREATED', {
        timestamp: new Date(Date.now() + run).toISOString(),
        projectId: `bench-project-${process.pid}-${run}`,
      });
    };
    return {
      calls: {
        ingest: {
          environment: {
            ...common,
            QUEUE_URL: queues.queueUrl,
            WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
            ARCHIVE_BUCKET: 'bench-archive',
          },
          nextEvent: () => {
            const request = signDatasaurRequest(nextBody(), SECRET);
            return toApiGatewayEvent({
              method: request.method,
              url: webhookPath(LOCAL_WEBHOOK_PATH_TOKEN),
              headers: request.headers,
              body: request.body,
            });
          },
          check: (result) => {
            const status = (result as { statusCode?: number } | undefined)?.statusCode;
            if (status === undefined || status < 200 || status >= 300) {
              throw new Error(`the ingest's first call answered ${JSON.stringify(result)}`);
            }
          },
        },
        worker: {
          environment: {
            ...common,
            TABLE_NAME,
            EVENT_BUS_NAME: 'default',
            EXPORT_QUEUE_URL: exportQueues.queueUrl,
          },
          nextEvent: () => sqsEvent([sqsRecord({ body: nextBody() })]),
          check: (result) => {
            const failures = (result as { batchItemFailures?: unknown[] } | undefined)
              ?.batchItemFailures;
            if (failures === undefined || failures.length > 0) {
              throw new Error(`the worker's first call answered ${JSON.stringify(result)}`);
            }
          },
        },
        exporter: {
          environment: {
            ...common,
            TABLE_NAME,
            EVENT_BUS_NAME: 'default',
            EXPORT_QUEUE_URL: exportQueues.queueUrl,
            // Written to by an export request, not by the resume check.
            ARCHIVE_BUCKET: 'bench-archive',
            // Read when an export waits for credentials, which none does here.
            DATASAUR_CREDENTIALS_SECRET_ARN:
              'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-datasaur',
          },
          // What the exporter's schedule rule sends it (infra, RESUME_EVENT).
          nextEvent: () => ({ ...RESUME_EVENT }),
          note: 'a resume check with no export waiting',
          check: (result) => {
            const resumed = result as { waiting?: number; credentials?: string } | null;
            if (resumed?.waiting !== 0 || resumed.credentials !== 'NOT_CHECKED') {
              throw new Error(`the exporter's first call answered ${JSON.stringify(result)}`);
            }
          },
        },
        enrich: {
          environment: {
            ...common,
            TABLE_NAME,
            // Read when a pass has a document to resolve, which this one has not.
            DATASAUR_CREDENTIALS_SECRET_ARN:
              'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-datasaur',
          },
          nextEvent: () => scheduledEvent(new Date()),
          note: 'a pass with no document pending',
          check: (result) => {
            const pass = result as { outcome?: string; pending?: number } | null;
            if (pass?.outcome !== 'succeeded' || pass.pending !== 0) {
              throw new Error(`the enrichment's first call answered ${JSON.stringify(result)}`);
            }
          },
        },
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

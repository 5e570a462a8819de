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
 * answer it). The servers run in a process of their own (first-call-servers.ts), not in the
 * bench's: there they answered 3-6 ms slower per cold start, when that process still held the
 * synthesized stack (now synthesized apart too: function-assets.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RESUME_EVENT } from '../../functions/exporter/resume-handler.ts';
import { webhookPath } from '../../shared/webhook/route.ts';
import { toApiGatewayEvent } from '../local/api-gateway-event.ts';
import { seedEventBody, signDatasaurRequest } from '../local/datasaur-sender.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';
import { LOCAL_CLIENT_CONFIG } from '../local/servers.ts';
import { sqsEvent, sqsRecord } from '../local/sqs-records.ts';
import type {
  FirstCallEndpoints,
  FirstCallServersMessage,
  FirstCallServersRequest,
} from './first-call-servers.ts';

/**
 * Rounds of the functions' calls each stand-in answers before the bench times anything
 * (`WARM_UP_LANES` at a time). A stand-in fresh from its start runs its own code cold, as V8
 * has not compiled it yet: from a warm client, the same three table calls (a conditional
 * PutItem, a Query, a PutItem) took 7.7 ms together over a fresh dynalite's first 20 rounds,
 * 5.4 up to the 60th and 4.1 from the 150th to the 400th; after these rounds, 4.1, 3.4 and 3.3.
 * The bench's first rows would pay for that, and the first function it times, the worker,
 * makes four table calls. AWS's services answer a function's first call as fast as any other.
 */
export const WARM_UP_ROUNDS = 1_600;

const SERVERS_ENTRY = fileURLToPath(new URL('./first-call-servers.ts', import.meta.url));
/** tsx's loader, resolved here so the child finds it whatever its working folder. */
const TSX_LOADER = import.meta.resolve('tsx');

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

/**
 * Starts the stand-ins in their own process (first-call-servers.ts) and waits until they
 * listen, with the queues and the table created.
 */
function startStandIns(
  request: FirstCallServersRequest,
): Promise<{ endpoints: FirstCallEndpoints; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, SERVERS_ENTRY], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      reject(error);
      void close();
    };
    child.once('error', fail);
    // After 'ready' the promise is settled and this does nothing.
    child.once('exit', (code, signal) =>
      reject(
        new Error(`the bench's servers exited with ${signal ?? `code ${code}`} while starting`),
      ),
    );
    child.once('message', (message: FirstCallServersMessage) => {
      if (message.type === 'ready') resolve({ endpoints: message.endpoints, close });
      else fail(new Error(`the bench's servers did not start: ${message.message}`));
    });
    child.send(request);
  });
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

export async function startFirstCallServers(
  options: {
    /** Rounds of calls the stand-ins answer before any is timed; a test needs no more than one. */
    readonly warmUpRounds?: number;
  } = {},
): Promise<FirstCallServers> {
  const standIns = await startStandIns({
    warmUpRounds: options.warmUpRounds ?? WARM_UP_ROUNDS,
    secret: SECRET,
    tableName: TABLE_NAME,
    queueName: 'bench-first-call',
    // The default deployment gives the worker an export queue (exportOn REVIEWED).
    exportQueueName: 'bench-first-call-exports',
  });
  const { endpoints } = standIns;
  const common = {
    AWS_REGION: LOCAL_CLIENT_CONFIG.region,
    AWS_ACCESS_KEY_ID: LOCAL_CLIENT_CONFIG.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CLIENT_CONFIG.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamoDb,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventBridge,
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
          QUEUE_URL: endpoints.queueUrl,
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
          EXPORT_QUEUE_URL: endpoints.exportQueueUrl,
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
          EXPORT_QUEUE_URL: endpoints.exportQueueUrl,
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
    close: standIns.close,
  };
}

/**
 * What `npm start` tells its worker child: endpoints, queue, table, batch settings. It
 * travels as JSON in one environment variable so the child needs no configuration of its own.
 */
import { z } from 'zod';
import { LOG_LEVELS } from './config.ts';

/** How long a stopping worker may finish its batches before it is killed (npm start stops within 8 s). */
export const WORKER_STOP_GRACE_MS = 5_000;

export const WORKER_SETTINGS_VARIABLE = 'LOCAL_WORKER_SETTINGS';

const workerSettingsSchema = z.object({
  dynamoDbEndpoint: z.url(),
  sqsEndpoint: z.url(),
  s3Endpoint: z.url(),
  queueUrl: z.url(),
  queueArn: z.string().min(1),
  region: z.string().min(1),
  tableName: z.string().min(3),
  batchSize: z.int().min(1).max(10),
  concurrency: z.int().min(1),
  /** Batches received and processed at the same time, each by its own poller. */
  batches: z.int().min(1),
  /**
   * Long-poll length. local-aws-sqs answers a long poll early only once the batch is full,
   * so this works as Lambda's batching window: a batch waits at most this long.
   */
  waitTimeSeconds: z.int().min(1).max(20),
  logLevel: z.enum(LOG_LEVELS),
  eventsEndpoint: z.url(),
  eventSource: z.string().min(1),
  publishLabelEvents: z.boolean(),
  /**
   * Export archiving, when on: the export queue, the archive bucket and the Datasaur API.
   * Every worker sends export requests; only the one with `runsExporter` archives them.
   */
  exporter: z
    .object({
      queueUrl: z.url(),
      queueArn: z.string().min(1),
      s3Endpoint: z.url(),
      bucket: z.string().min(3),
      apiUrl: z.url(),
      credentials: z
        .object({ clientId: z.string().min(1), clientSecret: z.string().min(1) })
        .optional(),
      exportOn: z.enum(['REVIEWED', 'COMPLETED', 'both']),
      /** This worker also polls the export queue (one export at a time) and resumes waits. */
      runsExporter: z.boolean(),
      format: z.string().min(1),
      /** The download policy (see shared/export/download.ts), Datasaur's own origin trusted. */
      download: z.object({
        maxBytes: z.int().min(1),
        allowedHosts: z.array(z.string()).readonly().optional(),
        allowPrivateHosts: z.boolean().optional(),
        trustedOrigins: z.array(z.string()).readonly().optional(),
      }),
    })
    .optional(),
});

export type WorkerSettings = z.infer<typeof workerSettingsSchema>;

/** Messages the worker child sends its supervisor over the IPC channel. */
export type WorkerMessage = { readonly type: 'polling' };

export function workerSettingsEnvironment(settings: WorkerSettings): Record<string, string> {
  return { [WORKER_SETTINGS_VARIABLE]: JSON.stringify(settings) };
}

export function readWorkerSettings(environment: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const raw = environment[WORKER_SETTINGS_VARIABLE];
  if (raw === undefined) {
    throw new Error(`${WORKER_SETTINGS_VARIABLE} is not set: the worker is started by npm start`);
  }
  return workerSettingsSchema.parse(JSON.parse(raw));
}

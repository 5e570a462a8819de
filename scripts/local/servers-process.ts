/**
 * The local AWS stand-ins in their own process, started by `npm start` (servers-child.ts):
 * dynalite, local-aws-sqs, our EventBridge endpoint and s3rver. Apart from the webhook
 * server's event loop, they take the other core: the worker's DynamoDB and SQS calls are
 * not queued behind every webhook request. Stops its servers on SIGTERM, and when the
 * process that started it goes away (its IPC channel closes), so it never outlives `npm start`.
 */
import { startLocalEventBus } from './eventbridge-server.ts';
import { serverProcess } from './server-process.ts';
import { type RunningServer, startDynalite, startS3, startSqs } from './servers.ts';
import type { ServersMessage, ServersRequest } from './servers-child.ts';

// In its own process group, so Ctrl-C reaches only npm start, which stops this last.
const lifecycle = serverProcess<ServersMessage>();

/** Starts one server; on failure reports which variable's port it was and stops. */
async function start<Server extends RunningServer>(
  variable: string,
  port: number,
  listen: () => Promise<Server>,
): Promise<Server> {
  try {
    const server = await listen();
    lifecycle.onStop(() => server.close());
    return server;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    await lifecycle.send({
      type: 'failed',
      variable,
      port,
      message: message ?? String(error),
      code,
    });
    await lifecycle.stop(1);
    throw error;
  }
}

async function startServers(request: ServersRequest): Promise<void> {
  const { host } = request;
  const dynamoDb =
    request.dynalite &&
    (await start('DYNAMODB_PORT', request.dynalite.port, () =>
      startDynalite({ port: request.dynalite?.port, host, path: request.dynalite?.path }),
    ));
  const sqs = await start('SQS_PORT', request.sqsPort, () =>
    startSqs({ port: request.sqsPort, host }),
  );
  const events = await start('EVENTS_PORT', request.events.port, () =>
    startLocalEventBus({
      eventsFile: request.events.eventsFile,
      port: request.events.port,
      host,
      ...(request.events.log
        ? { onEvent: (event) => void lifecycle.send({ type: 'event', event }) }
        : {}),
    }),
  );
  const s3 = await start('S3_PORT', request.s3.port, () =>
    startS3({ port: request.s3.port, host, directory: request.s3.directory }),
  );
  await lifecycle.send({
    type: 'listening',
    endpoints: {
      ...(dynamoDb ? { dynamoDb: dynamoDb.endpoint } : {}),
      sqs: sqs.endpoint,
      events: events.endpoint,
      s3: s3.endpoint,
    },
  });
}

process.once('message', (request: ServersRequest) => {
  startServers(request).catch(async (error: unknown) => {
    await lifecycle.send({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
    });
    await lifecycle.stop(1);
  });
});

/**
 * The ingest handler in process, with an SQS client whose transport answers at once, next
 * to the floor: a bare HMAC-SHA256 and hex compare of the same body.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createIngestHandler, toWebhookRequest } from '../../functions/ingest/handler.ts';
import { staticSecrets } from '../../shared/runtime/secrets.ts';
import { DEFAULT_MAX_BODY_BYTES, receiveWebhook } from '../../shared/webhook/ingest.ts';
import { webhookPath } from '../../shared/webhook/route.ts';
import { sdkQueueSender } from '../../shared/webhook/sdk-queue-sender.ts';
import { signBody } from '../../shared/webhook/signature.ts';
import { toApiGatewayEvent } from '../local/api-gateway-event.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';
import { NO_ARCHIVE } from '../local/no-archive.ts';
import { SEED_EVENT_TYPES, SEED_EVENTS, type SeedEventType } from '../local/seed-events.ts';
import { interleavedRounds } from './measure.ts';

const SECRET = 'bench-secret';

/** An SQS client whose transport answers SendMessage at once: no network in the measurement. */
export function instantSqsClient(): SQSClient {
  return new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const text =
          request.body instanceof Uint8Array
            ? Buffer.from(
                request.body.buffer,
                request.body.byteOffset,
                request.body.byteLength,
              ).toString()
            : String(request.body);
        const { MessageBody = '' } = JSON.parse(text) as { MessageBody?: string };
        const answer = JSON.stringify({
          MessageId: randomUUID(),
          MD5OfMessageBody: createHash('md5').update(MessageBody).digest('hex'),
        });
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: Readable.from([Buffer.from(answer)]),
          },
        };
      },
    },
  });
}

export interface IngestHandlerResult {
  readonly eventType: SeedEventType;
  readonly bodyBytes: number;
  /** The whole Lambda handler, SDK client included (its transport answers at once). */
  readonly handlerMicroseconds: number;
  /** The product's own work: `receiveWebhook` with an enqueue that returns at once. */
  readonly logicMicroseconds: number;
  /** Bare HMAC-SHA256 of the body and a constant-time compare. */
  readonly floorMicroseconds: number;
  readonly handlerToFloor: number;
  readonly logicToFloor: number;
  readonly eventsPerSecond: number;
}

export async function benchIngestHandler(options: {
  rounds: number;
  operations: number;
}): Promise<IngestHandlerResult[]> {
  const silent = { info() {}, warn() {}, error() {} };
  const handle = createIngestHandler({
    sqs: sdkQueueSender(instantSqsClient()),
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench',
    bodies: NO_ARCHIVE,
    secrets: staticSecrets([SECRET]),
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    logger: silent,
  });
  const logicDependencies = {
    enqueue: async () => {},
    bodies: NO_ARCHIVE,
    secrets: staticSecrets([SECRET]),
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  };
  const results: IngestHandlerResult[] = [];
  for (const eventType of SEED_EVENT_TYPES) {
    const body = Buffer.from(JSON.stringify(SEED_EVENTS[eventType]));
    const signature = signBody(SECRET, body);
    const event = toApiGatewayEvent({
      method: 'POST',
      url: webhookPath(LOCAL_WEBHOOK_PATH_TOKEN),
      headers: { 'content-type': 'application/json', 'x-datasaur-signature': signature },
      body,
    });
    const expected = Buffer.from(signature, 'hex');
    const medians = await interleavedRounds(options.rounds, options.operations, {
      handler: async () => {
        const response = await handle(event);
        if (response.statusCode !== 202)
          throw new Error(`bench request got ${response.statusCode}`);
      },
      logic: () => receiveWebhook(toWebhookRequest(event), logicDependencies),
      floor: () => timingSafeEqual(createHmac('sha256', SECRET).update(body).digest(), expected),
    });
    results.push({
      eventType,
      bodyBytes: body.length,
      handlerMicroseconds: medians.handler,
      logicMicroseconds: medians.logic,
      floorMicroseconds: medians.floor,
      handlerToFloor: medians.handler / medians.floor,
      logicToFloor: medians.logic / medians.floor,
      eventsPerSecond: 1_000_000 / medians.handler,
    });
  }
  return results;
}

/**
 * What an operator may do from the console (when it is started with --allow-actions), over
 * the same functions the CLIs call: `redrive` (npm run redrive), `replayRejected` (npm run
 * replay -- rejected), the export queue (npm run export) and `reconcileByHand` (npm run
 * reconcile). Each returns what it did in one sentence and whether it did all of it
 * (`ActionResult`); AWS's refusals reach the page through `userMessage`.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BusPublisher } from '../../shared/bus/bus-publisher.ts';
import type { DatasaurClient } from '../../shared/datasaur/client.ts';
import { createExportQueue } from '../../shared/export/export-queue.ts';
import type { ExportOn } from '../../shared/export/export-trigger.ts';
import { ReconcileInProgressError } from '../../shared/reconcile/lease.ts';
import { replayRejected } from '../../shared/replay/replay.ts';
import type { BodyReader } from '../../shared/webhook/claim-check.ts';
import { sdkQueueSender } from '../../shared/webhook/sdk-queue-sender.ts';
import { exportOnQueue, reconcileByHand, runSummary } from '../operations/reconcile.ts';
import { RedriveError, RedriveStillRunningError, redrive } from '../operations/redrive.ts';

/** The actions, by the name their form posts to (`/actions/<name>`). */
export const ACTION_NAMES = ['redrive', 'replay', 'export', 'reconcile'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export const ACTION_DESCRIPTIONS: Readonly<Record<ActionName, string>> = {
  redrive: 'redrive a dead-letter queue (its messages back to their source queue)',
  replay: 'replay a signed rejected body through the worker’s interpretation',
  export: 'archive a project’s export now (trigger MANUAL)',
  reconcile: 'run a reconcile pass (every team the Datasaur credentials can see)',
};

/** How long a redrive waits in the request for SQS to finish the move task, looking how often. */
export interface RedriveTiming {
  readonly redriveWaitMs: number;
  readonly redrivePollMs: number;
}

const REDRIVE_TIMING: RedriveTiming = { redriveWaitMs: 60_000, redrivePollMs: 250 };

export interface DeadLetterQueue {
  readonly name: string;
  url(): Promise<string>;
  arn(): Promise<string>;
  /**
   * The queue it serves, when known: a redrive names it, so messages put in the DLQ by hand
   * (whose source SQS cannot tell) go back too. Undefined: SQS finds each message's source.
   */
  sourceArn(): Promise<string | undefined>;
}

export interface StackParts {
  readonly sqs: SQSClient;
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  /** The export queue; undefined when the stack does not export. */
  exportQueueUrl(): Promise<string | undefined>;
  /** Made on first use: a read-only console never needs the bus (nor its endpoint). */
  publisher(): BusPublisher;
  readonly bodies: BodyReader;
  readonly exportOn: ExportOn;
  readonly publishLabelEvents: boolean;
  /**
   * The Datasaur API client the reconciler asks, made on first use; undefined when the stack
   * has no Datasaur credentials (neither the exporter nor the reconciler is on).
   */
  datasaur(): DatasaurClient | undefined;
  /** Who holds the reconcile lease, for the message a concurrent run shows. */
  readonly leaseHolder: string;
}

/**
 * Whether an action did what it was asked: all of it, part of it (some of it happened and
 * stays done, the rest failed), or nothing (the stack's state stopped it).
 */
export type ActionOutcome = 'done' | 'partly done' | 'not done';

export interface ActionResult {
  readonly outcome: ActionOutcome;
  /** One sentence saying what happened. */
  readonly message: string;
}

export interface StackOperations {
  redrive(queueName: string): Promise<ActionResult>;
  replayRejected(eventId: string, receivedAt: string): Promise<ActionResult>;
  requestExport(projectId: string, now: Date): Promise<ActionResult>;
  reconcile(): Promise<ActionResult>;
}

const done = (message: string): ActionResult => ({ outcome: 'done', message });
const partlyDone = (message: string): ActionResult => ({ outcome: 'partly done', message });
const notDone = (message: string): ActionResult => ({ outcome: 'not done', message });

/** A request the console refuses as given (an unknown queue, a bad time): shown as is, 400. */
export class ActionInputError extends Error {
  override readonly name = 'ActionInputError';
}

export function stackOperations(
  parts: StackParts,
  timing: RedriveTiming = REDRIVE_TIMING,
): StackOperations {
  return {
    async redrive(queueName) {
      const queue = parts.deadLetterQueues.find((known) => known.name === queueName);
      if (queue === undefined) throw new ActionInputError(`no dead-letter queue ${queueName}`);
      const destinationArn = await queue.sourceArn();
      const destination =
        destinationArn === undefined
          ? 'the queue each came from'
          : destinationArn.slice(destinationArn.lastIndexOf(':') + 1);
      let result: { status: string; messagesMoved: number };
      try {
        result = await redrive(parts.sqs, {
          deadLetterQueueArn: await queue.arn(),
          ...(destinationArn === undefined ? {} : { destinationArn }),
          timeoutMs: timing.redriveWaitMs,
          pollIntervalMs: timing.redrivePollMs,
        });
      } catch (error) {
        // Still running with nothing moved: Not done, the error says why.
        if (!(error instanceof RedriveStillRunningError) || error.messagesMoved === 0) throw error;
        // What moved so far is back in the queue, and SQS goes on moving the rest.
        const said = `Redrive of ${queueName} still ${error.status} after ${timing.redriveWaitMs / 1000} s: ${error.messagesMoved} message${error.messagesMoved === 1 ? '' : 's'} moved back to ${destination} so far; SQS moves the rest (reload to see the queue's count).`;
        return partlyDone(said);
      }
      const moved = result.messagesMoved;
      const said = `Redrive of ${queueName} ${result.status}: moved ${moved} message${moved === 1 ? '' : 's'} back to ${destination}.`;
      // A task cancelled (in the SQS console, say) before it moved everything.
      if (result.status !== 'COMPLETED') return moved > 0 ? partlyDone(said) : notDone(said);
      return done(said);
    },

    async replayRejected(eventId, receivedAt) {
      const at = Date.parse(receivedAt);
      if (Number.isNaN(at)) throw new ActionInputError(`not a time: ${receivedAt}`);
      const exportQueueUrl = await parts.exportQueueUrl();
      const result = await replayRejected(
        {
          documents: parts.documents,
          tableName: parts.tableName,
          publisher: parts.publisher(),
          bodies: parts.bodies,
          publishLabelEvents: parts.publishLabelEvents,
          ...(exportQueueUrl === undefined || parts.exportOn === 'off'
            ? {}
            : {
                exports: {
                  exportOn: parts.exportOn,
                  queue: createExportQueue(sdkQueueSender(parts.sqs), exportQueueUrl),
                },
              }),
        },
        // One millisecond holds this body's sort key (`<receivedAt>#<eventId>`).
        { from: new Date(at).toISOString(), to: new Date(at + 1).toISOString(), eventId },
      );
      if (result.read === 0) {
        return notDone(`No rejected body ${eventId} is stored (replayed already?).`);
      }
      if (result.unsigned > 0) {
        return notDone(
          `Not replayed: rejected body ${eventId} never passed the signature check, so it is not a webhook.`,
        );
      }
      if (result.stillRejected > 0) {
        return notDone(
          `Replayed rejected body ${eventId}: it still does not parse, so it stays rejected.`,
        );
      }
      if (result.failed > 0) {
        return partlyDone(
          `Replayed rejected body ${eventId}: stored as an event, but publishing it failed; it stays rejected until a replay publishes it.`,
        );
      }
      return done(
        `Replayed rejected body ${eventId}: it parses now and is stored as an event (${result.published} published on the bus).`,
      );
    },

    async requestExport(projectId, now) {
      const queueUrl = await parts.exportQueueUrl();
      if (queueUrl === undefined) {
        throw new ActionInputError('this stack runs no exporter (no export queue)');
      }
      const requestedAt = now.toISOString();
      await createExportQueue(sdkQueueSender(parts.sqs), queueUrl).send({
        kind: 'manual',
        projectId,
        requestedAt,
      });
      return done(
        `Asked the exporter to archive project ${projectId} (MANUAL-${requestedAt}); its progress shows under Exports on the project page.`,
      );
    },

    async reconcile() {
      const client = parts.datasaur();
      if (client === undefined) {
        throw new ActionInputError(
          'this stack has no Datasaur credentials secret (neither the exporter nor the reconciler is on)',
        );
      }
      const exportQueueUrl = await parts.exportQueueUrl();
      try {
        const run = await reconcileByHand({
          client,
          documents: parts.documents,
          tableName: parts.tableName,
          ...(exportQueueUrl === undefined || parts.exportOn === 'off'
            ? {}
            : { onTransition: exportOnQueue(parts.sqs, exportQueueUrl, parts.exportOn) }),
          holder: parts.leaseHolder,
        });
        const said = `Reconcile run ${run.runId} ${run.outcome}: ${runSummary(run)}; ${run.gapsFound} gap(s), repaired ${run.repaired}.`;
        if (run.outcome === 'succeeded') return done(said);
        // A failed run is recorded; what it checked before the errors stays repaired.
        const failed = `${said} Errors: ${run.errors.join('; ')}`;
        if (run.projectsChecked > 0) return partlyDone(failed);
        throw new Error(failed);
      } catch (error) {
        // Not a failure of this console: another run is at work; say so and when to retry.
        if (error instanceof ReconcileInProgressError) {
          return notDone(`Not run: ${error.message}. Try again after it ends.`);
        }
        throw error;
      }
    },
  };
}

/** The errors a user meets, as a sentence for the page; undefined for anything else. */
export function userMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof ActionInputError || error instanceof RedriveError) return error.message;
  const name = error.name;
  if (
    /^(ExpiredToken|ExpiredTokenException|RequestExpired|InvalidClientTokenId|UnrecognizedClientException|CredentialsProviderError|TokenProviderError)$/.test(
      name,
    )
  ) {
    return `Your AWS credentials are missing or expired (${name}): sign in again (aws sso login, or refresh the profile) and reload.`;
  }
  if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation|Forbidden)$/.test(name)) {
    return `AWS refused this for your identity (${name}): it needs the stack's operator policy (output OperatorPolicyArn). ${firstLine(error.message)}`;
  }
  if (
    /^(Throttling|ThrottlingException|ThrottledException|TooManyRequestsException|RequestLimitExceeded|ProvisionedThroughputExceededException|SlowDown)$/.test(
      name,
    )
  ) {
    return `AWS is throttling these requests (${name}): wait a moment and try again.`;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

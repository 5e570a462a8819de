/**
 * What an operator is told about: a dead-lettered message, a growing backlog, webhooks the
 * API failed to accept, a failing worker, and a flood told apart by what its sender knows
 * (no URL: 404 from API Gateway; the URL but not the secret: 401 from the ingest). Each alarm
 * notifies an SNS topic (optionally e-mailed); a dashboard shows the pipeline end to end.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  FilterPattern,
  type IFilterPattern,
  type ILogGroup,
  MetricFilter,
} from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type BatchFigure, METRICS_NAMESPACE } from '../../shared/store/batch-figures.ts';

const PERIOD = Duration.minutes(5);
/**
 * The flood defence's metrics, counted from the access log: requests no route matched (API
 * Gateway's own 404: the sender does not know the URL; never Datasaur) and requests the ingest
 * refused for their signature (401: the sender knows the URL but not the secret).
 */
export const FLOOD_METRICS = {
  unrouted: { metricName: 'UnroutedRequests' },
  signatureFailures: { metricName: 'SignatureFailures' },
} as const;

export interface AlarmsProps {
  readonly api: HttpApi;
  /** The API's JSON access logs, where throttled requests (429) are counted. */
  readonly accessLogs: ILogGroup;
  readonly ingest: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly worker: IFunction;
  /** The event table: its write throttling, and each index's, raise an alarm. */
  readonly table: ITable;
  /** The table's global secondary indexes (those it declares). */
  readonly indexNames: readonly string[];
  /** What the worker's batches stored, one metric per figure (summed per 5 minutes). */
  readonly batchFigure: (figure: BatchFigure) => IMetric;
  /** Age of the oldest queued message that means the worker is falling behind. @default 900 */
  readonly oldestMessageAgeAlarmSeconds?: number;
  /** Subscribed to the topic by e-mail (SNS asks the address to confirm). @default none */
  readonly alarmEmail?: string;
  /**
   * Requests per 5 minutes answered 404 without a route (scanners send a few) that mean a
   * flood aimed at the API. @default 3000 (10 a second)
   */
  readonly unroutedRequestsAlarmThreshold?: number;
  /** CloudWatch namespace of the metrics counted from logs. @default 'DatasaurWebhooks' */
  readonly metricsNamespace?: string;
}

export class Alarms extends Construct {
  public readonly topic: Topic;
  public readonly deadLetterQueueNotEmpty: Alarm;
  public readonly oldestMessageTooOld: Alarm;
  public readonly ingestServerErrors: Alarm;
  public readonly requestsThrottled: Alarm;
  public readonly unroutedFlood: Alarm;
  /** Write throttling of the table, then of each index. */
  public readonly writeThrottled: Alarm[];
  public readonly signatureFailures: Alarm;
  public readonly requestsTooLarge: Alarm;
  public readonly workerErrors: Alarm;
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);

    // CloudWatch cannot publish to a topic under the AWS managed SNS key (its policy cannot
    // name CloudWatch), so the topic has its own key that CloudWatch may use.
    const topicKey = new Key(this, 'TopicKey', {
      description: 'Encrypts the Datasaur webhooks alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch publishes for the alarms of this account and region only (no confused deputy).
    const stack = Stack.of(this);
    const cloudWatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    const forThisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: forThisAccountsAlarms,
      }),
    );
    // Grants only for AWS services acting on AWS resources (Control Tower's CT.KMS.PR.3): no
    // principal, even one the key policy allows, can hand the key on to another with a grant.
    topicKey.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: {
            'kms:GrantIsForAWSResource': 'false',
            'aws:PrincipalIsAWSService': 'false',
          },
        },
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Datasaur webhooks alarms',
      masterKey: topicKey,
      enforceSSL: true,
    });
    // The topic's policy replaces SNS's default one, which let the account's alarms publish:
    // without this, an alarm goes into ALARM and nobody is told ("not authorized to perform
    // SNS:Publish"). Local stand-ins check no policy, so test/infra.test.ts checks this one.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: forThisAccountsAlarms,
      }),
    );
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    const oldestMessageAgeSeconds = props.oldestMessageAgeAlarmSeconds ?? 900;
    this.deadLetterQueueNotEmpty = this.alarm('DeadLetterQueueNotEmpty', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        'Messages the worker failed on repeatedly are in the dead-letter queue. Read the worker logs, fix the cause, then run `npm run redrive`.',
    });
    this.oldestMessageTooOld = this.alarm('OldestMessageTooOld', {
      metric: props.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: Stats.MAXIMUM,
      }),
      threshold: oldestMessageAgeSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `A queued webhook has waited ${oldestMessageAgeSeconds} s or more: the worker is failing, throttled or too slow. Check its errors, throttles and maxConcurrency.`,
    });
    this.ingestServerErrors = this.alarmOnAny(
      'IngestServerErrors',
      props.api.metricServerError({ period: PERIOD, statistic: Stats.SUM }),
      'The API answered 5xx: webhooks were not accepted (secret unreadable, queue refused, ingest crashed, or an event Lambda refused for its size, which leaves no ingest log: read the access log). Datasaur does not document retries: check the ingest logs at once.',
    );
    // A metric counting the access-log lines that match the pattern: one a request.
    const countInAccessLog = (id: string, metricName: string, filterPattern: IFilterPattern) =>
      new MetricFilter(this, id, {
        logGroup: props.accessLogs,
        filterPattern,
        metricNamespace: props.metricsNamespace ?? METRICS_NAMESPACE,
        metricName,
        metricValue: '1',
      });
    // HTTP APIs publish 4xx only as a whole; a 429 is not a bad request but a webhook turned
    // away, and Datasaur documents no retries, so it is counted from the access log.
    const throttled = countInAccessLog(
      'ThrottledRequestsFilter',
      'ThrottledRequests',
      FilterPattern.stringValue('$.status', '=', '429'),
    );
    this.requestsThrottled = this.alarmOnAny(
      'RequestsThrottled',
      throttled.metric({ period: PERIOD, statistic: Stats.SUM }),
      "The API turned requests away with 429. Only holders of the secret webhook URL can spend a webhook route's budget: if SignatureFailures is also raised the URL has leaked (rotate webhookPathToken, docs/flood.md); otherwise Datasaur's own burst exceeded it and, as Datasaur documents no retries, events may be lost: raise throttleRateLimit / throttleBurstLimit.",
    );
    // Without the path token or the route key in the log, a request no route matched is the
    // one answered 404 with no integration status ("-").
    const unrouted = countInAccessLog(
      'UnroutedRequestsFilter',
      FLOOD_METRICS.unrouted.metricName,
      FilterPattern.all(
        FilterPattern.stringValue('$.status', '=', '404'),
        FilterPattern.stringValue('$.integrationStatus', '=', '-'),
      ),
    );
    const unroutedThreshold = props.unroutedRequestsAlarmThreshold ?? 3000;
    this.unroutedFlood = this.alarm('UnroutedRequestsFlood', {
      metric: unrouted.metric({ period: PERIOD, statistic: Stats.SUM }),
      threshold: unroutedThreshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description: `${unroutedThreshold} or more requests in 5 minutes did not know the webhook URL: API Gateway answered them 404 without invoking anything, and they spend no webhook route's budget. Datasaur is not affected unless the flood nears the account's API Gateway limit in this region (10,000 requests/s); each costs about $1 per million. See docs/flood.md.`,
    });
    // The API has no authorizer: every 401 is the ingest refusing a signature, so its sender
    // reached the secret path.
    const badSignatures = countInAccessLog(
      'SignatureFailuresFilter',
      FLOOD_METRICS.signatureFailures.metricName,
      FilterPattern.stringValue('$.status', '=', '401'),
    );
    this.signatureFailures = this.alarmOnAny(
      'SignatureFailures',
      badSignatures.metric({ period: PERIOD, statistic: Stats.SUM }),
      "Requests reached the secret webhook URL without a valid signature: either Datasaur signs with a secret the stack does not hold (check the ingest log and the webhook secret), or the URL has leaked and its holder can spend the webhook routes' budget: rotate webhookPathToken (docs/flood.md).",
    );
    // A body too large is answered 413 by the ingest (over maxBodyBytes, logged) or by API
    // Gateway itself when Lambda refuses the event, which the ingest never sees: both show
    // only in the access log.
    const tooLarge = countInAccessLog(
      'RequestsTooLargeFilter',
      'RequestsTooLarge',
      FilterPattern.stringValue('$.status', '=', '413'),
    );
    this.requestsTooLarge = this.alarmOnAny(
      'RequestsTooLarge',
      tooLarge.metric({ period: PERIOD, statistic: Stats.SUM }),
      'The API answered 413 to a webhook: its body was over maxBodyBytes (the ingest log says so), or its event, with the body JSON-escaped, was over the 6,291,556 bytes Lambda accepts, and API Gateway refused it without invoking the ingest (only the access log shows it). Datasaur documents no retries: the webhook is lost, and the reconciler repairs project statuses only. See docs/large-events.md.',
    );
    this.workerErrors = this.alarmOnAny(
      'WorkerErrors',
      props.worker.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
      'The worker failed whole invocations (crash, timeout, configuration); their messages are retried and may reach the dead-letter queue. Check the worker logs.',
    );

    // A throttled index write fails the table write too: the worker retries, then the DLQ.
    this.writeThrottled = [undefined, ...props.indexNames].map((indexName) =>
      this.alarmOnAny(
        indexName === undefined ? 'TableWriteThrottled' : `${indexName}WriteThrottled`,
        new Metric({
          namespace: 'AWS/DynamoDB',
          metricName: 'WriteThrottleEvents',
          dimensionsMap: {
            TableName: props.table.tableName,
            ...(indexName === undefined ? {} : { GlobalSecondaryIndexName: indexName }),
          },
          period: PERIOD,
          statistic: Stats.SUM,
        }),
        `DynamoDB throttled writes to ${indexName === undefined ? 'the table' : `index ${indexName}`}: a partition key past 1,000 write units a second, or the tableMaxWriteRequestUnits cap. The worker retries; persistent throttling sends messages to the dead-letter queue (redrive them after). See docs/performance.md.`,
      ),
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      // Named after the stack and its region: dashboard names are global to the account, and
      // two stages (or one stack in two regions) each get their own.
      dashboardName: `${Stack.of(this).stackName}-${Stack.of(this).region}`,
      widgets: [
        [
          new AlarmStatusWidget({
            title: 'Alarms',
            width: 24,
            alarms: [
              this.deadLetterQueueNotEmpty,
              this.oldestMessageTooOld,
              this.ingestServerErrors,
              this.requestsThrottled,
              this.requestsTooLarge,
              this.workerErrors,
              this.unroutedFlood,
              this.signatureFailures,
            ],
          }),
        ],
        [
          graph('API requests', [
            props.api.metricCount({ period: PERIOD }),
            props.api.metricClientError({ period: PERIOD }),
            props.api.metricServerError({ period: PERIOD }),
          ]),
          graph('Ingest', [
            props.ingest.metricInvocations({ period: PERIOD }),
            props.ingest.metricErrors({ period: PERIOD }),
            props.ingest.metricThrottles({ period: PERIOD }),
          ]),
          graph('Ingest duration (p99)', [
            props.ingest.metricDuration({ period: PERIOD, statistic: Stats.p(99) }),
          ]),
        ],
        [
          // Who is sending: Datasaur (accepted), URL holders without the secret (401), senders
          // without the URL (404 from API Gateway), and what the throttle turned away (429).
          new GraphWidget({
            title: 'Requests by what the sender knew',
            width: 24,
            left: [
              props.queue.metricNumberOfMessagesSent({ period: PERIOD, label: 'Accepted' }),
              badSignatures.metric({
                period: PERIOD,
                statistic: Stats.SUM,
                label: '401 signature',
              }),
              unrouted.metric({ period: PERIOD, statistic: Stats.SUM, label: '404 no route' }),
              throttled.metric({ period: PERIOD, statistic: Stats.SUM, label: '429 throttled' }),
            ],
          }),
        ],
        [
          graph('Queue', [
            props.queue.metricNumberOfMessagesSent({ period: PERIOD }),
            props.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD }),
            props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              period: PERIOD,
              label: 'Dead-letter queue visible',
            }),
          ]),
          graph('Oldest queued message (s)', [
            props.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD }),
          ]),
          graph('Worker', [
            props.worker.metricInvocations({ period: PERIOD }),
            props.worker.metricErrors({ period: PERIOD }),
            props.worker.metricThrottles({ period: PERIOD }),
            props.worker.metricDuration({ period: PERIOD, statistic: Stats.p(99) }),
          ]),
        ],
        [
          graph('Events stored', [
            props.batchFigure('LabelEventsStored'),
            props.batchFigure('ProjectEventsStored'),
            props.batchFigure('ExportsStored'),
            props.batchFigure('UnknownEventsStored'),
          ]),
          graph('Duplicates and rejected', [
            props.batchFigure('Duplicates'),
            props.batchFigure('Rejected'),
          ]),
          graph('Table write units', [props.batchFigure('WriteUnits')]),
        ],
      ],
    });
  }

  /** Raised by one or more in a period: each of these is a webhook lost or at risk. */
  private alarmOnAny(id: string, metric: IMetric, description: string): Alarm {
    return this.alarm(id, {
      metric,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      description,
    });
  }

  private alarm(
    id: string,
    options: {
      metric: IMetric;
      threshold: number;
      comparisonOperator: ComparisonOperator;
      description: string;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator,
      evaluationPeriods: 1,
      alarmDescription: options.description,
      // No data means no traffic, which is not a failure.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    return alarm;
  }
}

function graph(title: string, metrics: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left: metrics, width: 8 });
}

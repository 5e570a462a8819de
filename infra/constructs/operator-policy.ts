/**
 * The managed policy for the people who operate the stack: exactly what the CLIs call with
 * `--stack` (query, send, redrive, replay, export, reconcile, setup, doctor) and what
 * `aws logs tail` reads, on this stack's resources only. Attach it to their role or group.
 */
import { ArnFormat, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';

export interface OperatorPolicyProps {
  /** The webhook API: setup, doctor and send read its routes for the webhook URL. */
  readonly api: IHttpApi;
  readonly table: ITable;
  readonly bucket: IBucket;
  /** Prefixes of the bucket the CLIs and the console read (large bodies, archived exports). */
  readonly readablePrefixes: readonly string[];
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly bus: IEventBus;
  readonly webhookSecret: ISecret;
  readonly logGroups: readonly ILogGroup[];
  /** Present with export archiving or the reconciler. @default none */
  readonly datasaurCredentials?: ISecret;
  /** Present with export archiving. @default none */
  readonly exports?: { readonly queue: IQueue; readonly deadLetterQueue: IQueue };
}

export class OperatorPolicy extends Construct {
  public readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: OperatorPolicyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const deadLetterQueues = [
      props.deadLetterQueue,
      ...(props.exports ? [props.exports.deadLetterQueue] : []),
    ];
    const secrets = [
      props.webhookSecret,
      ...(props.datasaurCredentials ? [props.datasaurCredentials] : []),
    ];
    const statements = [
      // Every CLI finds the resources from the stack's outputs; doctor lists its alarms.
      new PolicyStatement({
        sid: 'ReadTheStack',
        actions: ['cloudformation:DescribeStacks', 'cloudformation:ListStackResources'],
        resources: [
          stack.formatArn({
            service: 'cloudformation',
            resource: 'stack',
            resourceName: `${stack.stackName}/*`,
          }),
        ],
      }),
      // The webhook URL's path token is in no output: setup, doctor and send read it from the
      // routes of this API (GetRoutes), and nothing else of API Gateway.
      new PolicyStatement({
        sid: 'ReadTheWebhookRoutes',
        actions: ['apigateway:GET'],
        resources: [
          stack.formatArn({
            service: 'apigateway',
            account: '',
            resource: `/apis/${props.api.apiId}/routes`,
            arnFormat: ArnFormat.NO_RESOURCE_NAME,
          }),
        ],
      }),
      // query, doctor, export (progress), reconcile and replay (writes repairs and recovered events).
      new PolicyStatement({
        sid: 'ReadAndRepairTheTable',
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        ],
        resources: [props.table.tableArn],
      }),
      // The views that read an index (a team's projects, the feed, lookup by id, labels by project).
      new PolicyStatement({
        sid: 'QueryTheIndexes',
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/*`],
      }),
      new PolicyStatement({
        sid: 'ReadLargeBodies',
        actions: ['s3:GetObject'],
        resources: props.readablePrefixes.map((prefix) => props.bucket.arnForObjects(`${prefix}*`)),
      }),
      // redrive: a message move task out of a DLQ back to its source queue; doctor: depths.
      new PolicyStatement({
        sid: 'RedriveAndWatchDeadLetterQueues',
        actions: [
          'sqs:GetQueueAttributes',
          'sqs:StartMessageMoveTask',
          'sqs:ListMessageMoveTasks',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
        ],
        resources: deadLetterQueues.map((queue) => queue.queueArn),
      }),
      new PolicyStatement({
        sid: 'SendToQueues',
        // The redrive destination, and export requests (export, reconcile).
        actions: ['sqs:SendMessage'],
        resources: [props.queue.queueArn, ...(props.exports ? [props.exports.queue.queueArn] : [])],
      }),
      // setup shows, stores and rotates; doctor and send sign with the webhook secret.
      new PolicyStatement({
        sid: 'ReadAndSetSecrets',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        resources: secrets.map((secret) => secret.secretArn),
      }),
      new PolicyStatement({
        sid: 'ReplayOntoTheBus',
        actions: ['events:PutEvents'],
        resources: [props.bus.eventBusArn],
      }),
      new PolicyStatement({
        sid: 'ReadAlarmStates',
        actions: ['cloudwatch:DescribeAlarms'],
        // DescribeAlarms takes alarm names known only once deployed; read-only states.
        resources: [
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
      new PolicyStatement({
        sid: 'TailLogs',
        actions: ['logs:FilterLogEvents', 'logs:StartLiveTail'],
        // FilterLogEvents names the group's streams (`…:*`); StartLiveTail the group itself.
        resources: props.logGroups.flatMap((group) => [
          group.logGroupArn,
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: group.logGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ]),
      }),
    ];
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: `Operates ${stack.stackName}: npm run query/send/redrive/replay/export/reconcile/setup/doctor -- --stack ${stack.stackName}, and aws logs tail`,
      statements,
    });
    this.acknowledgeWildcards(props);
  }

  /** One acknowledgement per wildcard, each saying why the resource cannot be named. */
  private acknowledgeWildcards(props: OperatorPolicyProps): void {
    const stack = Stack.of(this);
    const logicalId = (construct: IConstruct) =>
      stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(this.policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason,
      });
    const account = 'arn:<AWS::Partition>:%s:<AWS::Region>:<AWS::AccountId>';
    acknowledge(
      `${account.replace('%s', 'cloudformation')}:stack/${stack.stackName}/*`,
      'A stack ARN ends with an id CloudFormation assigns at creation; the name fixes the stack, for DescribeStacks and ListStackResources only.',
    );
    acknowledge(
      `<${logicalId(props.table)}.Arn>/index/*`,
      "The table's own indexes, dynamodb:Query only: the views read the GSIs the shared table definition declares.",
    );
    for (const prefix of props.readablePrefixes) {
      acknowledge(
        `<${logicalId(props.bucket)}.Arn>/${prefix}*`,
        `Object keys under ${prefix} are made at run time (one per large event or archived export); s3:GetObject only, under that prefix.`,
      );
    }
    acknowledge(
      `${account.replace('%s', 'cloudwatch')}:alarm:*`,
      "cloudwatch:DescribeAlarms (read-only states) on alarms whose names CloudFormation generates; doctor asks for this stack's alarms by name.",
    );
  }
}

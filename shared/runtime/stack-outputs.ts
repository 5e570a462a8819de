/**
 * The deployed stack's CloudFormation outputs, named once: `infra/stack.ts` writes them and
 * every CLI given `--stack <name>` reads its resources from them.
 */

/** Output names by what they hold; the names are stable (operators script against them). */
export const STACK_OUTPUTS = {
  version: 'Version',
  /** The HTTP API's endpoint; the webhook URL is it + `/webhooks/datasaur/<token>`. */
  apiEndpoint: 'ApiEndpoint',
  /** The HTTP API: its routes hold the path token, which no output does (docs/flood.md). */
  apiId: 'ApiId',
  webhookSecretArn: 'WebhookSecretArn',
  tableName: 'TableName',
  archiveBucketName: 'ArchiveBucketName',
  queueUrl: 'QueueUrl',
  queueArn: 'QueueArn',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  deadLetterQueueArn: 'DeadLetterQueueArn',
  eventBusName: 'EventBusName',
  eventSource: 'EventSource',
  schemaRegistryName: 'SchemaRegistryName',
  operatorPolicyArn: 'OperatorPolicyArn',
  ingestLogGroupName: 'IngestLogGroupName',
  workerLogGroupName: 'WorkerLogGroupName',
  datasaurCredentialsSecretArn: 'DatasaurCredentialsSecretArn',
  datasaurApiUrl: 'DatasaurApiUrl',
  exportQueueUrl: 'ExportQueueUrl',
  exportDeadLetterQueueUrl: 'ExportDeadLetterQueueUrl',
  exportDeadLetterQueueArn: 'ExportDeadLetterQueueArn',
  exporterLogGroupName: 'ExporterLogGroupName',
  reconcilerLogGroupName: 'ReconcilerLogGroupName',
  enricherLogGroupName: 'EnricherLogGroupName',
} as const;

export type StackOutputKey = keyof typeof STACK_OUTPUTS;
export type StackOutputs = Partial<Record<StackOutputKey, string>>;

/** The stack has no output of this name: built by an older version, or the feature is off. */
export class MissingOutputError extends Error {
  override readonly name = 'MissingOutputError';
}

/** The outputs this code knows, from CloudFormation's `OutputKey` → `OutputValue` pairs. */
export function stackOutputsOf(outputs: Readonly<Record<string, string>>): StackOutputs {
  const known: StackOutputs = {};
  for (const [key, outputName] of Object.entries(STACK_OUTPUTS) as [StackOutputKey, string][]) {
    const value = outputs[outputName];
    if (value !== undefined && value !== '') known[key] = value;
  }
  return known;
}

/** The output's value, or a `MissingOutputError` naming the stack, the output and why. */
export function requiredOutput(
  stackName: string,
  outputs: StackOutputs,
  key: StackOutputKey,
  needed: string,
): string {
  const value = outputs[key];
  if (value === undefined) {
    throw new MissingOutputError(
      `stack ${stackName} has no output ${STACK_OUTPUTS[key]} (needed ${needed}): deploy this version of the stack (npx cdk deploy), or check that the feature is on`,
    );
  }
  return value;
}

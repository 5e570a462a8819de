/**
 * `--stack <name>`: a deployed stack's resources, read from its CloudFormation outputs, and
 * AWS SDK clients configured the standard way (`--profile`, `--region`, `AWS_PROFILE`,
 * `AWS_REGION`, the `AWS_ENDPOINT_URL_*` variables). The one resolver every CLI uses.
 */
import {
  ApiGatewayV2Client,
  ApiGatewayV2ServiceException,
  GetRoutesCommand,
  type Route,
} from '@aws-sdk/client-apigatewayv2';
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  MissingOutputError,
  requiredOutput,
  type StackOutputKey,
  type StackOutputs,
  stackOutputsOf,
} from '../../shared/runtime/stack-outputs.ts';
import { type DeployedWebhookUrls, deployedWebhookUrls } from '../../shared/webhook/route.ts';

/** The flags every CLI that acts on AWS takes, for `parseArgs`. */
export const STACK_OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
} as const;

/** The same flags in a CLI's usage text, descriptions starting at `column`. */
export function stackUsage(column = 24): string {
  const line = (flag: string, text: string) =>
    `  ${flag.padEnd(column - 2)}${text.replaceAll('\n', `\n${' '.repeat(column)}`)}`;
  return [
    line(
      '--stack <name>',
      'a deployed stack: every resource comes from its CloudFormation\noutputs (default: the local stack of npm start)',
    ),
    line('--region <region>', "its region (default: AWS_REGION, else your AWS profile's)"),
    line(
      '--profile <name>',
      'the AWS profile to use (default: AWS_PROFILE, else the default chain)',
    ),
  ].join('\n');
}

export interface StackFlags {
  readonly stack?: string | undefined;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
}

/** The stack cannot be used: the CLI prints the message as one line and exits 2. */
export class StackResolutionError extends Error {
  override readonly name = 'StackResolutionError';
}

export interface AwsClientConfig {
  readonly region: string;
  readonly profile?: string;
}

/** Clients for the stack's services, made on first use; `destroy()` closes those made. */
export interface StackClients {
  readonly dynamoDb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly secrets: SecretsManagerClient;
  readonly eventBridge: EventBridgeClient;
  readonly cloudWatch: CloudWatchClient;
  readonly cloudFormation: CloudFormationClient;
  readonly apiGateway: ApiGatewayV2Client;
  destroy(): void;
}

export interface DeployedStack {
  readonly name: string;
  readonly region: string;
  /** The stack's status (`CREATE_COMPLETE`, `UPDATE_ROLLBACK_COMPLETE`, …). */
  readonly status: string;
  readonly outputs: StackOutputs;
  readonly clientConfig: AwsClientConfig;
  readonly clients: StackClients;
  /** The output's value; a `StackResolutionError` naming it when the stack has none. */
  output(key: StackOutputKey, neededFor: string): string;
}

/** Stack names as CloudFormation accepts them, or a stack id (ARN). */
const STACK_NAME = /^([A-Za-z][A-Za-z0-9-]{0,127}|arn:aws[a-z-]*:cloudformation:\S+)$/;

/** Reads the stack's outputs; throws `StackResolutionError` with one line saying what to do. */
export async function resolveStack(flags: StackFlags & { stack: string }): Promise<DeployedStack> {
  const name = flags.stack.trim();
  if (!STACK_NAME.test(name)) {
    throw new StackResolutionError(
      `--stack must be a CloudFormation stack name (a letter, then letters, digits and hyphens), got "${flags.stack}"`,
    );
  }
  const base = {
    ...(flags.region === undefined ? {} : { region: flags.region }),
    ...(flags.profile === undefined ? {} : { profile: flags.profile }),
  };
  const cloudFormation = new CloudFormationClient({ ...base, maxAttempts: 2 });
  let region: string;
  try {
    region = await cloudFormation.config.region();
  } catch {
    cloudFormation.destroy();
    throw new StackResolutionError(
      'no AWS region: pass --region, set AWS_REGION, or give your AWS profile a region',
    );
  }
  const clientConfig: AwsClientConfig = { ...base, region };
  let described: Awaited<ReturnType<typeof describeStack>>;
  try {
    // The profile the SDK read: --profile, else AWS_PROFILE.
    const profile = flags.profile ?? (process.env.AWS_PROFILE || undefined);
    described = await describeStack(cloudFormation, name, region, profile);
  } catch (error) {
    cloudFormation.destroy();
    throw error;
  }
  const outputs = stackOutputsOf(described.outputs);
  return {
    name,
    region,
    status: described.status,
    outputs,
    clientConfig,
    clients: stackClients(clientConfig, cloudFormation),
    output: (key, neededFor) => {
      try {
        return requiredOutput(name, outputs, key, neededFor);
      } catch (error) {
        if (error instanceof MissingOutputError) throw new StackResolutionError(error.message);
        throw error;
      }
    },
  };
}

/**
 * The URL to register with Datasaur (during a path-token rotation, the new one). Every command
 * that shows or calls it asks here or in `webhookUrlsToRegister`.
 */
export async function webhookUrlToRegister(stack: DeployedStack): Promise<string> {
  return (await webhookUrlsToRegister(stack)).current;
}

/**
 * The webhook URLs of the stack: `ApiEndpoint` followed by the path of the API's webhook
 * route, read with API Gateway's GetRoutes on `ApiId` (the path token is in no output:
 * docs/flood.md); `previous` while a rotation keeps the old token routed.
 */
export async function webhookUrlsToRegister(stack: DeployedStack): Promise<DeployedWebhookUrls> {
  const neededFor = 'for the webhook URL';
  const apiEndpoint = stack.output('apiEndpoint', neededFor);
  const apiId = stack.output('apiId', neededFor);
  const routes: Route[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await stack.clients.apiGateway.send(
        new GetRoutesCommand({ ApiId: apiId, NextToken: nextToken }),
      );
      routes.push(...(page.Items ?? []));
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    throw new StackResolutionError(describeRoutesFailure(error, stack, apiId));
  }
  try {
    return deployedWebhookUrls(apiEndpoint, routes);
  } catch (error) {
    throw new StackResolutionError(
      `stack ${stack.name}, API ${apiId}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function describeRoutesFailure(error: unknown, stack: DeployedStack, apiId: string): string {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const listing = `the routes of API ${apiId} (output ApiId of stack ${stack.name}) in ${stack.region}`;
  if (error instanceof ApiGatewayV2ServiceException) {
    if (error.name === 'NotFoundException') {
      return `API Gateway in ${stack.region} has no API ${apiId} (output ApiId of stack ${stack.name}): was it deleted outside CloudFormation? Deploy again (npx cdk deploy)`;
    }
    if (
      /AccessDenied|Forbidden|UnrecognizedClient|InvalidClientTokenId|ExpiredToken/.test(error.name)
    ) {
      return `AWS refused to list ${listing} (${error.name}): the webhook URL's path token is read from them; allow apigateway:GET on them (the policy of output OperatorPolicyArn does)`;
    }
    return `API Gateway refused to list ${listing}: ${error.name}: ${message}`;
  }
  return `cannot list ${listing} for the webhook URL: ${message}`;
}

async function describeStack(
  cloudFormation: CloudFormationClient,
  name: string,
  region: string,
  profile: string | undefined,
): Promise<{ status: string; outputs: Record<string, string> }> {
  let found: DescribeStacksCommandOutput;
  try {
    found = await cloudFormation.send(new DescribeStacksCommand({ StackName: name }));
  } catch (error) {
    throw new StackResolutionError(describeResolutionFailure(error, name, region, profile));
  }
  const stack = found.Stacks?.[0];
  if (stack === undefined) {
    throw new StackResolutionError(
      `stack ${name} not found in ${region}: check --stack, --region and --profile`,
    );
  }
  const status = stack.StackStatus ?? 'UNKNOWN';
  const outputs: Record<string, string> = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined) {
      outputs[output.OutputKey] = output.OutputValue;
    }
  }
  if (Object.keys(outputs).length === 0) {
    throw new StackResolutionError(
      `stack ${name} in ${region} has no outputs (status ${status}): wait for the deploy to finish, or deploy it (npx cdk deploy)`,
    );
  }
  return { status, outputs };
}

function describeResolutionFailure(
  error: unknown,
  name: string,
  region: string,
  profile: string | undefined,
): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CloudFormationServiceException) {
    if (error.name === 'ValidationError' && /does not exist/i.test(message)) {
      return `stack ${name} not found in ${region}: check --stack, --region and --profile (npx cdk list shows the name)`;
    }
    if (
      /AccessDenied|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|SignatureDoesNotMatch/.test(
        error.name,
      )
    ) {
      return `AWS refused to describe stack ${name} in ${region} (${error.name}): check your credentials and that they may call cloudformation:DescribeStacks`;
    }
    return `CloudFormation in ${region} refused to describe stack ${name}: ${error.name}: ${message}`;
  }
  const errorName = error instanceof Error ? error.name : '';
  if (errorName === 'CredentialsProviderError' || /credential/i.test(message)) {
    const cause = message.split('\n')[0];
    return profile === undefined
      ? `no AWS credentials to describe stack ${name}: run \`aws configure\` or \`aws sso login\`, or pass --profile (${cause})`
      : `no AWS credentials from profile ${profile} to describe stack ${name}: check that \`aws configure list-profiles\` lists it and that it is signed in (\`aws sso login --profile ${profile}\`) (${cause})`;
  }
  return `cannot reach CloudFormation in ${region} to describe stack ${name}: ${message.split('\n')[0]}`;
}

function stackClients(config: AwsClientConfig, cloudFormation: CloudFormationClient): StackClients {
  const made: { destroy(): void }[] = [cloudFormation];
  const once = <Client extends { destroy(): void }>(make: () => Client) => {
    let client: Client | undefined;
    return () => {
      if (client === undefined) {
        client = make();
        made.push(client);
      }
      return client;
    };
  };
  const dynamoDb = once(() => new DynamoDBClient({ ...config, maxAttempts: 3 }));
  const documents = once(() =>
    DynamoDBDocumentClient.from(dynamoDb(), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );
  const sqs = once(() => new SQSClient(config));
  // An S3 API at a custom endpoint (AWS_ENDPOINT_URL_S3: a local server) is path-style.
  const customS3 = Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
  const s3 = once(() => new S3Client({ ...config, ...(customS3 ? { forcePathStyle: true } : {}) }));
  const secrets = once(() => new SecretsManagerClient(config));
  const eventBridge = once(() => new EventBridgeClient(config));
  const cloudWatch = once(() => new CloudWatchClient(config));
  const apiGateway = once(() => new ApiGatewayV2Client(config));
  return {
    get dynamoDb() {
      return dynamoDb();
    },
    get documents() {
      return documents();
    },
    get sqs() {
      return sqs();
    },
    get s3() {
      return s3();
    },
    get secrets() {
      return secrets();
    },
    get eventBridge() {
      return eventBridge();
    },
    get cloudWatch() {
      return cloudWatch();
    },
    cloudFormation,
    get apiGateway() {
      return apiGateway();
    },
    destroy: () => {
      for (const client of made) client.destroy();
    },
  };
}

/**
 * The tests' own CloudFormation, CloudWatch and API Gateway: one HTTP server answering what the
 * CLIs ask of a deployed stack. CloudFormation over the AWS Query protocol (form-encoded
 * `Action=…`, XML answers): DescribeStacks and ListStackResources. CloudWatch over JSON 1.0
 * (`x-amz-target: GraniteServiceVersion20100801.DescribeAlarms`). API Gateway v2 over REST-JSON:
 * GetRoutes (`GET /v2/apis/{apiId}/routes`) of the stack's `ApiId` output, the webhook routes the
 * CDK stack makes for its path tokens. Point the real SDK clients at it with
 * `AWS_ENDPOINT_URL_CLOUDFORMATION`, `AWS_ENDPOINT_URL_CLOUDWATCH` and
 * `AWS_ENDPOINT_URL_APIGATEWAYV2`. It also answers STS's GetCallerIdentity (Query protocol too:
 * `AWS_ENDPOINT_URL_STS`) with `CALLER_ARN`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CURRENT_ROUTE_OPERATION,
  PREVIOUS_ROUTE_OPERATION,
  webhookRouteKeys,
} from '../../shared/webhook/route.ts';

export interface StandInAlarm {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  readonly reason?: string;
}

export interface StandInStack {
  readonly name: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly alarms?: readonly StandInAlarm[];
  readonly status?: string;
  /**
   * The path tokens of the API named by the `ApiId` output (`previous` during a rotation).
   * Without them, GetRoutes on that id answers NotFoundException, as for a deleted API.
   */
  readonly webhookPathTokens?: { readonly current: string; readonly previous?: string };
}

export interface CloudFormationStandIn {
  readonly endpoint: string;
  /** Every request received, by action or target, in order. */
  readonly calls: string[];
  close(): Promise<void>;
}

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** Who the stand-in says the caller is. */
export const CALLER_ARN = 'arn:aws:sts::000000000000:assumed-role/Operator/stand-in';

export async function startCloudFormationStandIn(
  stacks: readonly StandInStack[],
): Promise<CloudFormationStandIn> {
  const calls: string[] = [];
  const byName = new Map(stacks.map((stack) => [stack.name, stack]));
  const server = createServer((request, response) => {
    readBody(request)
      .then((body) => {
        const target = request.headers['x-amz-target'];
        const path = new URL(request.url ?? '/', 'http://stand-in');
        if (request.method === 'GET' && path.pathname.startsWith('/v2/apis/')) {
          calls.push('GetRoutes');
          apiGateway(path, stacks, response);
        } else if (typeof target === 'string') {
          calls.push(target);
          cloudWatch(target, body, stacks, response);
        } else {
          const form = new URLSearchParams(body);
          calls.push(form.get('Action') ?? '');
          if (form.get('Action') === 'GetCallerIdentity') callerIdentity(response);
          else cloudFormation(form, byName, response);
        }
      })
      .catch((error: unknown) => {
        response.writeHead(500);
        response.end(String(error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function cloudFormation(
  form: URLSearchParams,
  stacks: ReadonlyMap<string, StandInStack>,
  response: ServerResponse,
): void {
  const action = form.get('Action');
  const stack = stacks.get(form.get('StackName') ?? '');
  if (action !== 'DescribeStacks' && action !== 'ListStackResources') {
    xmlError(response, 'InvalidAction', `the stand-in does not implement ${action}`);
    return;
  }
  if (stack === undefined) {
    xmlError(response, 'ValidationError', `Stack with id ${form.get('StackName')} does not exist`);
    return;
  }
  const stackId = `arn:aws:cloudformation:us-east-1:000000000000:stack/${stack.name}/${randomUUID()}`;
  if (action === 'DescribeStacks') {
    const outputs = Object.entries(stack.outputs)
      .map(
        ([key, value]) =>
          `<member><OutputKey>${escapeXml(key)}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`,
      )
      .join('');
    xml(
      response,
      'DescribeStacks',
      `<Stacks><member><StackName>${escapeXml(stack.name)}</StackName><StackId>${stackId}</StackId><CreationTime>2026-12-01T00:00:00.000Z</CreationTime><StackStatus>${stack.status ?? 'CREATE_COMPLETE'}</StackStatus><Outputs>${outputs}</Outputs></member></Stacks>`,
    );
    return;
  }
  const resources = (stack.alarms ?? [])
    .map(
      (alarm, index) =>
        `<member><LogicalResourceId>Alarm${index}</LogicalResourceId><PhysicalResourceId>${escapeXml(alarm.name)}</PhysicalResourceId><ResourceType>AWS::CloudWatch::Alarm</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus><LastUpdatedTimestamp>2026-12-01T00:00:00.000Z</LastUpdatedTimestamp></member>`,
    )
    .join('');
  xml(
    response,
    'ListStackResources',
    `<StackResourceSummaries>${resources}</StackResourceSummaries>`,
  );
}

function cloudWatch(
  target: string,
  body: string,
  stacks: readonly StandInStack[],
  response: ServerResponse,
): void {
  if (target !== 'GraniteServiceVersion20100801.DescribeAlarms') {
    response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
    response.end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
    return;
  }
  const names = new Set((JSON.parse(body) as { AlarmNames?: string[] }).AlarmNames ?? []);
  const known = new Map(
    stacks.flatMap((stack) => stack.alarms ?? []).map((alarm) => [alarm.name, alarm]),
  );
  const alarms = [...known.values()]
    .filter((alarm) => names.has(alarm.name))
    .map((alarm) => ({
      AlarmName: alarm.name,
      StateValue: alarm.state,
      StateReason: alarm.reason ?? `stand-in state ${alarm.state}`,
    }));
  response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
  response.end(JSON.stringify({ MetricAlarms: alarms, CompositeAlarms: [] }));
}

/** Small pages, so that a client which reads only the first page misses routes. */
const ROUTES_PER_PAGE = 2;

/** GetRoutes as API Gateway answers it: `{"items":[…],"nextToken":…}`, errors by header. */
function apiGateway(path: URL, stacks: readonly StandInStack[], response: ServerResponse): void {
  const [, apiId = ''] = /^\/v2\/apis\/([^/]+)\/routes$/.exec(path.pathname) ?? [];
  const stack = stacks.find(
    (one) => one.webhookPathTokens !== undefined && one.outputs.ApiId === decodeURIComponent(apiId),
  );
  if (apiId === '' || stack?.webhookPathTokens === undefined) {
    restJsonError(response, 404, 'NotFoundException', `Invalid API identifier specified ${apiId}`);
    return;
  }
  const { current, previous } = stack.webhookPathTokens;
  // The previous token's routes first: the current ones are then on a later page.
  const routes = [
    ...(previous === undefined ? [] : routesOf(previous, PREVIOUS_ROUTE_OPERATION)),
    ...routesOf(current, CURRENT_ROUTE_OPERATION),
  ];
  const start = Number(path.searchParams.get('nextToken') ?? '0');
  const end = start + ROUTES_PER_PAGE;
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      items: routes.slice(start, end),
      ...(end < routes.length ? { nextToken: String(end) } : {}),
    }),
  );
}

function routesOf(token: string, operationName: string): Record<string, unknown>[] {
  return webhookRouteKeys(token).map((routeKey) => ({
    apiKeyRequired: false,
    authorizationType: 'NONE',
    operationName,
    routeId: createHash('sha256').update(routeKey).digest('hex').slice(0, 7),
    routeKey,
    target: 'integrations/abc1234',
  }));
}

function restJsonError(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
): void {
  response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
  response.end(JSON.stringify({ message }));
}

function callerIdentity(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/xml' });
  response.end(
    `<GetCallerIdentityResponse xmlns="${STS_NAMESPACE}"><GetCallerIdentityResult><Arn>${CALLER_ARN}</Arn><UserId>AROASTANDIN:stand-in</UserId><Account>000000000000</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  );
}

function xml(response: ServerResponse, action: string, result: string): void {
  response.writeHead(200, { 'content-type': 'text/xml' });
  response.end(
    `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function xmlError(response: ServerResponse, code: string, message: string): void {
  response.writeHead(400, { 'content-type': 'text/xml' });
  response.end(
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  );
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A local endpoint speaking AWS's JSON protocol (`POST /`, the operation in the `x-amz-target`
 * header, a JSON body, errors as `{"__type", "message"}`), enough for the real SDK clients of
 * the services with no local server on the registry (EventBridge, Secrets Manager).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** An error answered as the service answers it: its code, message and HTTP status. */
export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type JsonOperation = (
  request: Record<string, unknown>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export interface JsonProtocolServerOptions {
  /** The target's prefix before the operation's name, e.g. `AWSEvents.` or `secretsmanager.`. */
  readonly targetPrefix: string;
  readonly operations: Readonly<Record<string, JsonOperation>>;
  /** The service's code for an error of its own (500). */
  readonly internalErrorCode: string;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 0: a free port */
  readonly port?: number;
}

export interface JsonProtocolServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startJsonProtocolServer(
  options: JsonProtocolServerOptions,
): Promise<JsonProtocolServer> {
  const server = createServer((request, response) => {
    serve(request, response, options).catch((error: unknown) => {
      const problem =
        error instanceof ProtocolError
          ? error
          : new ProtocolError(options.internalErrorCode, String(error), 500);
      answer(response, problem.status, { __type: problem.code, message: problem.message });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  { targetPrefix, operations }: JsonProtocolServerOptions,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = target.startsWith(targetPrefix)
    ? operations[target.slice(targetPrefix.length)]
    : undefined;
  if (request.method !== 'POST' || operation === undefined) {
    throw new ProtocolError(
      'UnknownOperationException',
      `this local endpoint implements ${Object.keys(operations)
        .map((name) => `${targetPrefix}${name}`)
        .join(', ')} only, got ${target}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ProtocolError('SerializationException', 'the request body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProtocolError('SerializationException', 'the request body is not a JSON object');
  }
  answer(response, 200, await operation(body as Record<string, unknown>));
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': CONTENT_TYPE });
  response.end(JSON.stringify(body));
}

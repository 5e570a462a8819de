/**
 * An HTTP server in front of s3rver that names each S3 call it passes on (`UploadPart`,
 * `CompleteMultipartUpload`…), checks what s3rver does not (the SigV4 signature over the
 * request as it arrived, and the payload against its signed SHA-256, answering S3's 403
 * SignatureDoesNotMatch and 400 XAmzContentSHA256Mismatch), and can refuse a call itself with
 * S3's 403 AccessDenied, as a bucket or key policy would: s3rver grants every request. The
 * calls reach s3rver as the client sent them.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { LOCAL_S3_CREDENTIALS } from '../../scripts/local/servers.ts';
import { Sha256 } from '../../shared/runtime/aws-json-client.ts';

export interface S3Recorder {
  /** Give this to the client, path-style, with s3rver's credentials. */
  readonly endpoint: string;
  /** Every call passed on or refused, by operation name, in order of arrival. */
  readonly operations: string[];
  /** Their paths, exactly as they arrived (before s3rver reads them). */
  readonly paths: string[];
  close(): Promise<void>;
}

/** The S3 operation a request is, from its method and query (the calls an upload makes). */
export function s3OperationOf(method: string, url: URL): string {
  const query = url.searchParams;
  switch (method) {
    case 'PUT':
      return query.has('partNumber') ? 'UploadPart' : 'PutObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      return query.has('uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
    case 'DELETE':
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'HEAD':
      return 'HeadObject';
    default:
      return url.pathname.split('/').filter(Boolean).length > 1 ? 'GetObject' : 'ListObjects';
  }
}

/** What S3 would refuse in a request signed with s3rver's key pair, or undefined. */
async function problemOf(
  incoming: IncomingMessage,
  body: Buffer,
): Promise<[number, string, string] | undefined> {
  const claimed = incoming.headers['x-amz-content-sha256'];
  if (claimed !== createHash('sha256').update(body).digest('hex')) {
    return [
      400,
      'XAmzContentSHA256Mismatch',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    ];
  }
  const match =
    /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      String(incoming.headers.authorization ?? ''),
    );
  if (match === null) return [400, 'AuthorizationHeaderMalformed', 'Not a SigV4 authorization'];
  const [, region = '', signedHeaders = '', signature] = match;
  const amzDate = String(incoming.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  // The path exactly as sent (a URL would drop `.` and `..` segments), the query decoded.
  const [path = '/', search = ''] = (incoming.url ?? '/').split('?');
  // Signed again from what arrived, as S3 would.
  const resigned = await new SignatureV4({
    service: 's3',
    region,
    credentials: LOCAL_S3_CREDENTIALS,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  }).sign(
    {
      method: String(incoming.method),
      protocol: 'http:',
      hostname: '127.0.0.1',
      path,
      query: Object.fromEntries(new URLSearchParams(search)),
      headers: Object.fromEntries(
        signedHeaders.split(';').map((name) => [name, String(incoming.headers[name])]),
      ),
      body,
    },
    { signingDate },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1];
  return expected === signature
    ? undefined
    : [
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      ];
}

export async function startS3Recorder(
  s3rverEndpoint: string,
  options: {
    /** Answered with 403 AccessDenied instead of passed on. @default none */
    readonly refuse?: ((operation: string) => boolean) | undefined;
    /** Where the operations are recorded. @default a new array */
    readonly operations?: string[] | undefined;
  } = {},
): Promise<S3Recorder> {
  const target = new URL(s3rverEndpoint);
  const operations = options.operations ?? [];
  const paths: string[] = [];
  const refuse = options.refuse ?? (() => false);
  const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
    const operation = s3OperationOf(
      incoming.method ?? 'GET',
      new URL(incoming.url ?? '/', 'http://x'),
    );
    operations.push(operation);
    paths.push((incoming.url ?? '/').split('?')[0] ?? '/');
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      void (async () => {
        const refusal = refuse(operation)
          ? [403, 'AccessDenied', 'Access Denied']
          : await problemOf(incoming, body);
        if (refusal === undefined) {
          forward(body);
          return;
        }
        outgoing.writeHead(refusal[0] as number, { 'content-type': 'application/xml' });
        outgoing.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal[1]}</Code><Message>${refusal[2]}</Message><RequestId>RECORDER</RequestId></Error>`,
        );
      })();
    });
    const forward = (body: Buffer) => {
      const forwarded = request(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(body);
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    operations,
    paths,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A fake Datasaur API for tests and for `npm run fake-datasaur`: the OAuth token endpoint,
 * the GraphQL endpoint (every document validated against datasaur.graphql), exports that
 * move QUEUED → IN_PROGRESS → DELIVERED one poll at a time, and file URLs that answer 404
 * a few times before the zip. Projects and faults are set through the returned object (in
 * process) or `/admin/projects` and `/admin/files` (over HTTP).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, type DocumentNode, execute, GraphQLError, parse, validate } from 'graphql';
import type { DatasaurProjectStatus } from '../../../shared/datasaur/get-projects.ts';
import { signedLinkExpiry } from '../../../shared/export/download.ts';
import { zipArchive } from './zip.ts';

export const DATASAUR_SCHEMA = buildSchema(
  readFileSync(new URL('./datasaur.graphql', import.meta.url), 'utf8'),
);

const DELIVERY_STEPS = ['QUEUED', 'IN_PROGRESS', 'DELIVERED'] as const;

export interface FakeProject {
  readonly id: string;
  readonly name: string;
  readonly status: DatasaurProjectStatus;
  readonly createdDate: string;
  readonly updatedDate: string;
  readonly completedDate: string | null;
  readonly exportedDate: string | null;
  readonly team: { readonly id: string; readonly name: string };
  readonly tags: readonly { readonly id: string; readonly name: string }[];
  readonly isArchived: boolean;
  /** The project's documents, served by `getProjectCabinets` in one cabinet per role. */
  readonly documents: readonly FakeDocument[];
  /** Answers `team: null` (Datasaur's `Project.team` is nullable), still listed under its team. */
  readonly teamHidden?: boolean;
}

export interface FakeDocument {
  readonly id: string;
  readonly originId?: string;
  readonly name?: string;
}

/** What a test or an admin request gives: an id, and any field to set. */
export type ProjectUpdate = Partial<FakeProject> & { readonly id: string };

export interface FakeExport {
  readonly exportId: string;
  readonly projectIds: readonly string[];
  readonly format: string;
  readonly role: string | undefined;
  readonly fileName: string;
  /** Status polls answered so far. */
  polls: number;
  /** GETs of the file URL answered so far (404s included). */
  fileRequests: number;
  readonly file: Buffer;
  readonly failure: string | undefined;
}

export interface FakeDatasaurOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** `expires_in` of issued tokens. @default 3600 */
  readonly tokenLifetimeSeconds?: number;
  /** GETs of a file URL answered 404 before the zip. @default 2 */
  readonly fileNotFoundCount?: number;
  /** Pads each export's file to at least this many bytes. @default none */
  readonly fileBytes?: number;
  readonly projects?: readonly ProjectUpdate[];
  /** Teams `getAllTeams` answers, besides those of the projects. @default none */
  readonly teams?: readonly { readonly id: string; readonly name: string }[];
}

/**
 * How export files are served: padded to `fileBytes`, and sent `chunkBytes` at a time with
 * `chunkIntervalMs` between chunks (a slow link); unset, at once.
 */
export interface FileDelivery {
  readonly fileBytes?: number;
  readonly chunkBytes?: number;
  readonly chunkIntervalMs?: number;
}

export interface FakeDatasaur {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Adds or updates a project the caller controls. */
  upsertProject(update: ProjectUpdate): FakeProject;
  projects(): readonly FakeProject[];
  readonly exports: ReadonlyMap<string, FakeExport>;
  /** Requests received, by kind; GraphQL requests by operation name. */
  readonly counts: {
    tokens: number;
    graphql: Record<string, number>;
    fileRequests: number;
  };
  /** Documents refused by validation (a test expects none). */
  readonly invalidDocuments: string[];
  readonly faults: {
    /** The next `count` requests of `operationName` answer HTTP 200 with `errors`. */
    graphqlError(operationName: string, message: string, count?: number): void;
    /**
     * The next `count` GraphQL requests answer this HTTP status (401, 429, 5xx…), with a
     * `Retry-After` of `retryAfterSeconds` when given.
     */
    httpStatus(statusCode: number, count?: number, retryAfterSeconds?: number): void;
    /** The next `count` token requests answer this HTTP status. */
    tokenStatus(statusCode: number, count?: number): void;
    /** Every token issued so far stops working (an AuthenticationError, as Datasaur says it). */
    expireTokens(): void;
    /** Exports requested from now on end FAILED with this reason (undefined: deliver again). */
    failExports(reason: string | undefined): void;
    /**
     * Exports' statuses answer NONE (true) or move QUEUED → DELIVERED again (false): what
     * Datasaur answers for an export it tracks no delivery for (its meaning is undocumented).
     */
    untrackedDeliveries(on: boolean): void;
    /** GETs of file URLs answer 404 this many times before the zip (Infinity: never ready). */
    fileNotFound(count: number): void;
    /** The next `count` file downloads send half the file, then the socket is destroyed. */
    breakFiles(count?: number): void;
    /** The next `count` file downloads send half the file, then nothing (the socket stays open). */
    stallFiles(count?: number): void;
  };
  /** Size and pace of the files served from now on (also `POST /admin/files`). */
  deliverFiles(delivery: FileDelivery): void;
  close(): Promise<void>;
}

export async function startFakeDatasaur(options: FakeDatasaurOptions = {}): Promise<FakeDatasaur> {
  const clientId = options.clientId ?? `fake-client-${randomBytes(4).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(16).toString('hex');
  const tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
  let fileNotFoundCount = options.fileNotFoundCount ?? 2;
  let exportFailure: string | undefined;
  let untrackedDeliveries = false;
  let fileDelivery: FileDelivery = { fileBytes: options.fileBytes };
  const fileBreaks = { broken: 0, stalled: 0 };
  const openResponses = new Set<ServerResponse>();

  const projects = new Map<string, FakeProject>();
  const exports = new Map<string, FakeExport>();
  const tokens = new Map<string, number>(); // token → expiry (epoch ms)
  const counts = { tokens: 0, graphql: {} as Record<string, number>, fileRequests: 0 };
  const invalidDocuments: string[] = [];
  const graphqlFaults: { operationName: string; message: string; remaining: number }[] = [];
  const httpFaults: { statusCode: number; remaining: number; retryAfterSeconds?: number }[] = [];
  const tokenFaults: { statusCode: number; remaining: number }[] = [];
  let baseUrl = '';

  function upsertProject(update: ProjectUpdate): FakeProject {
    const now = new Date().toISOString();
    const existing = projects.get(update.id);
    const merged: FakeProject = {
      name: update.id,
      status: 'CREATED',
      createdDate: now,
      completedDate: null,
      exportedDate: null,
      team: { id: '1', name: "User's Team Workspace" },
      tags: [],
      isArchived: false,
      documents: [],
      ...existing,
      ...update,
      updatedDate: update.updatedDate ?? now,
    };
    // Datasaur stamps completedDate when a project becomes COMPLETE.
    const project =
      merged.status === 'COMPLETE' && merged.completedDate === null
        ? { ...merged, completedDate: merged.updatedDate }
        : merged;
    projects.set(project.id, project);
    return project;
  }
  for (const project of options.projects ?? []) upsertProject(project);

  const takeFault = <T extends { remaining: number }>(
    faults: T[],
    matches: (fault: T) => boolean = () => true,
  ) => {
    const fault = faults.find((candidate) => candidate.remaining > 0 && matches(candidate));
    if (fault !== undefined) fault.remaining -= 1;
    return fault;
  };

  const rootValue = {
    exportTextProject({ input }: { input: ExportInput }) {
      const unknown = input.projectIds.filter((id) => !projects.has(id));
      if (unknown.length > 0) {
        throw new GraphQLError(`Project not found: ${unknown.join(', ')}`, {
          extensions: { type: 'NotFoundError' },
        });
      }
      if (input.method !== 'FILE_STORAGE') {
        throw new GraphQLError(`the fake Datasaur API only delivers FILE_STORAGE exports`);
      }
      const exportId = randomUUID();
      exports.set(exportId, {
        exportId,
        projectIds: input.projectIds,
        format: input.format,
        role: input.role ?? undefined,
        fileName: input.fileName,
        polls: 0,
        fileRequests: 0,
        file: exportFile(input),
        failure: exportFailure,
      });
      for (const id of input.projectIds) {
        upsertProject({ id, exportedDate: new Date().toISOString() });
      }
      return {
        redirect: null,
        queued: true,
        fileUrl: `${baseUrl}/files/${exportId}/${encodeURIComponent(input.fileName)}.zip`,
        fileUrlExpiredAt: new Date(Date.now() + 6 * 3600_000).toISOString(),
        exportId,
      };
    },
    getExportDeliveryStatus({ exportId }: { exportId: string }) {
      const record = exports.get(exportId);
      if (record === undefined || untrackedDeliveries)
        return { deliveryStatus: 'NONE', errors: null };
      const step = DELIVERY_STEPS[Math.min(record.polls, DELIVERY_STEPS.length - 1)] ?? 'QUEUED';
      record.polls += 1;
      if (step === 'DELIVERED' && record.failure !== undefined) {
        return {
          deliveryStatus: 'FAILED',
          errors: [{ id: exportId, stack: `Error: ${record.failure}`, args: { exportId } }],
        };
      }
      return { deliveryStatus: step, errors: null };
    },
    getJobs({ jobIds }: { jobIds: string[] }) {
      return jobIds.map((id) => ({ id, status: exports.has(id) ? 'DELIVERED' : 'NONE' }));
    },
    getAllTeams() {
      const teams = new Map((options.teams ?? []).map((team) => [team.id, team]));
      for (const project of projects.values()) teams.set(project.team.id, project.team);
      return [...teams.values()];
    },
    getProjectCabinets({ projectId }: { projectId: string }) {
      const project = projects.get(projectId);
      if (project === undefined) {
        throw new GraphQLError(`Project not found: ${projectId}`, {
          extensions: { type: 'NotFoundError' },
        });
      }
      const documents = project.documents.map((document) => ({
        id: document.id,
        originId: document.originId ?? document.id,
        name: document.name ?? document.id,
        fileName: `${document.name ?? document.id}.txt`,
        projectId,
      }));
      return (['LABELER', 'REVIEWER'] as const).map((role) => ({
        id: `${projectId}-${role}`,
        role,
        status: 'IN_PROGRESS',
        documents,
      }));
    },
    getProjects({ input }: { input: ProjectsInput }) {
      const filter = input.filter ?? {};
      const matching = [...projects.values()]
        .filter((project) => filter.teamId == null || project.team.id === filter.teamId)
        .filter((project) => filter.statuses == null || filter.statuses.includes(project.status))
        .filter((project) => filter.keyword == null || project.name.includes(filter.keyword))
        .filter((project) => filter.isArchived == null || project.isArchived === filter.isArchived)
        .sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
      // As Datasaur's own clients page: `page` for the first, the cursor (which carries the
      // size) alone after it. What Datasaur does with both is not documented: refused here.
      if (input.cursor != null && input.page != null) {
        throw new GraphQLError('getProjects takes either a cursor or a page, not both');
      }
      const at =
        input.cursor == null
          ? { offset: input.page?.skip ?? 0, take: input.page?.take ?? 10 }
          : decodeCursor(input.cursor);
      const end = at.offset + at.take;
      return {
        nodes: matching
          .slice(at.offset, end)
          .map((project) => (project.teamHidden === true ? { ...project, team: null } : project)),
        pageInfo: {
          nextCursor: end < matching.length ? encodeCursor(end, at.take) : null,
          prevCursor:
            at.offset > 0 ? encodeCursor(Math.max(0, at.offset - at.take), at.take) : null,
        },
      };
    },
  };

  function exportFile(input: ExportInput): Buffer {
    const content = JSON.stringify(
      input.projectIds.map((id) => ({ project: projects.get(id), format: input.format })),
    );
    const padding = Math.max(0, (fileDelivery.fileBytes ?? 0) - content.length);
    return zipArchive([
      { name: `${input.fileName}.json`, content: Buffer.from(content + ' '.repeat(padding)) },
    ]);
  }

  function issueToken(request: IncomingMessage, body: string, response: ServerResponse) {
    counts.tokens += 1;
    const fault = takeFault(tokenFaults);
    if (fault !== undefined) return sendJson(response, fault.statusCode, { error: 'injected' });
    if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return sendJson(response, 400, {
        error: 'invalid_request',
        error_description: 'content-type must be application/x-www-form-urlencoded',
      });
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return sendJson(response, 400, { error: 'unsupported_grant_type' });
    }
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return sendJson(response, 401, { error: 'invalid_client' });
    }
    const token = randomBytes(24).toString('hex');
    tokens.set(token, Date.now() + tokenLifetimeSeconds * 1000);
    sendJson(response, 200, {
      access_token: token,
      token_type: 'bearer',
      expires_in: tokenLifetimeSeconds,
    });
  }

  async function answerGraphql(request: IncomingMessage, body: string, response: ServerResponse) {
    const bearer = /^Bearer (.+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
    if (bearer === undefined) return sendJson(response, 401, { message: 'Unauthorized' });
    let payload: { operationName?: string; variables?: Record<string, unknown>; query?: string };
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      return sendJson(response, 400, { errors: [{ message: 'the body is not JSON' }] });
    }
    const operationName = payload.operationName ?? '';
    counts.graphql[operationName] = (counts.graphql[operationName] ?? 0) + 1;
    const httpFault = takeFault(httpFaults);
    if (httpFault !== undefined) {
      const retryAfter = httpFault.retryAfterSeconds;
      return sendJson(
        response,
        httpFault.statusCode,
        { message: 'injected fault' },
        retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
      );
    }
    const expiry = tokens.get(bearer);
    if (expiry === undefined || expiry <= Date.now()) {
      return sendJson(response, 200, {
        errors: [{ message: 'Unauthorized', extensions: { type: 'AuthenticationError' } }],
        data: null,
      });
    }
    let document: DocumentNode;
    try {
      document = parse(payload.query ?? '');
    } catch (error) {
      invalidDocuments.push(String(payload.query));
      return sendJson(response, 400, { errors: [{ message: String(error) }] });
    }
    const validationErrors = validate(DATASAUR_SCHEMA, document);
    if (validationErrors.length > 0) {
      invalidDocuments.push(String(payload.query));
      return sendJson(response, 400, {
        errors: validationErrors.map((error) => ({
          message: error.message,
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        })),
      });
    }
    const graphqlFault = takeFault(graphqlFaults, (fault) => fault.operationName === operationName);
    if (graphqlFault !== undefined) {
      return sendJson(response, 200, {
        errors: [{ message: graphqlFault.message, extensions: { type: 'InternalServerError' } }],
        data: null,
      });
    }
    const result = await execute({
      schema: DATASAUR_SCHEMA,
      document,
      rootValue,
      variableValues: payload.variables ?? {},
      operationName: payload.operationName,
    });
    sendJson(response, 200, {
      data: result.data ?? null,
      ...(result.errors === undefined
        ? {}
        : {
            errors: result.errors.map((error) => ({
              message: error.message,
              extensions: error.extensions,
            })),
          }),
    });
  }

  /**
   * A file Datasaur pushed with a PUT delivery (`npm run send -- export` names one under
   * `/files/pushed-<id>/`): made on its first request, then served as an export's file.
   */
  function pushedExport(exportId: string): FakeExport {
    const content = JSON.stringify({ pushed: exportId, format: 'json_advanced' });
    const record: FakeExport = {
      exportId,
      projectIds: [],
      format: 'json_advanced',
      role: undefined,
      fileName: exportId,
      polls: 0,
      fileRequests: 0,
      file: zipArchive([{ name: `${exportId}.json`, content: Buffer.from(content) }]),
      failure: undefined,
    };
    exports.set(exportId, record);
    return record;
  }

  function serveFile(exportId: string, url: string, response: ServerResponse) {
    counts.fileRequests += 1;
    // As S3 answers a pre-signed link past its `X-Amz-Date` + `X-Amz-Expires`.
    const expiresAt = signedLinkExpiry(url);
    if (expiresAt !== undefined && Date.now() >= expiresAt) {
      return sendJson(response, 403, { message: 'Request has expired' });
    }
    const record =
      exports.get(exportId) ??
      (exportId.startsWith('pushed-') ? pushedExport(exportId) : undefined);
    if (record === undefined) return sendJson(response, 404, { message: 'Not Found' });
    record.fileRequests += 1;
    if (record.fileRequests <= fileNotFoundCount || record.failure !== undefined) {
      return sendJson(response, 404, { message: 'Not Found' });
    }
    response.writeHead(200, {
      'content-type': 'application/zip',
      'content-length': record.file.length,
    });
    const half = Math.floor(record.file.length / 2);
    if (fileBreaks.broken > 0) {
      fileBreaks.broken -= 1;
      response.write(record.file.subarray(0, half), () => response.socket?.destroy());
      return;
    }
    if (fileBreaks.stalled > 0) {
      fileBreaks.stalled -= 1;
      openResponses.add(response);
      response.write(record.file.subarray(0, half));
      return;
    }
    const { chunkBytes, chunkIntervalMs = 0 } = fileDelivery;
    if (chunkBytes === undefined) return void response.end(record.file);
    // A slow link: one chunk, a pause, the next; the pace of a test, not its synchronization.
    openResponses.add(response);
    let offset = 0;
    const sendNext = () => {
      if (response.destroyed) return;
      const chunk = record.file.subarray(offset, offset + chunkBytes);
      offset += chunk.length;
      if (offset >= record.file.length) {
        openResponses.delete(response);
        return void response.end(chunk);
      }
      response.write(chunk, () => setTimeout(sendNext, chunkIntervalMs));
    };
    sendNext();
  }

  function administerFiles(request: IncomingMessage, body: string, response: ServerResponse) {
    if (request.method === 'GET') return sendJson(response, 200, fileDelivery);
    let delivery: FileDelivery;
    try {
      delivery = JSON.parse(body) as FileDelivery;
    } catch {
      return sendJson(response, 400, { message: 'the body must be JSON' });
    }
    const fields = ['fileBytes', 'chunkBytes', 'chunkIntervalMs'] as const;
    const bad = fields.find(
      (field) =>
        delivery[field] !== undefined &&
        !(Number.isInteger(delivery[field]) && (delivery[field] as number) >= 0),
    );
    if (bad !== undefined || delivery.chunkBytes === 0) {
      return sendJson(response, 400, {
        message:
          'expected {"fileBytes"?: integer ≥ 0, "chunkBytes"?: integer ≥ 1, "chunkIntervalMs"?: integer ≥ 0}',
      });
    }
    fileDelivery = delivery;
    sendJson(response, 200, fileDelivery);
  }

  function administerProjects(request: IncomingMessage, body: string, response: ServerResponse) {
    if (request.method === 'GET') return sendJson(response, 200, [...projects.values()]);
    let updates: unknown;
    try {
      updates = JSON.parse(body);
    } catch {
      return sendJson(response, 400, { message: 'the body must be a project or a list of them' });
    }
    const list = Array.isArray(updates) ? updates : [updates];
    if (!list.every((update) => typeof (update as { id?: unknown })?.id === 'string')) {
      return sendJson(response, 400, { message: 'every project needs a string "id"' });
    }
    sendJson(response, 200, (list as ProjectUpdate[]).map(upsertProject));
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = new URL(request.url ?? '/', 'http://fake').pathname;
      const file = /^\/files\/([^/]+)\//.exec(path);
      const route =
        request.method === 'POST' && path === '/api/oauth/token'
          ? issueToken(request, body, response)
          : request.method === 'POST' && path === '/graphql'
            ? answerGraphql(request, body, response)
            : request.method === 'GET' && file?.[1] !== undefined
              ? serveFile(file[1], new URL(request.url ?? '/', 'http://fake').href, response)
              : path === '/admin/projects'
                ? administerProjects(request, body, response)
                : path === '/admin/files'
                  ? administerFiles(request, body, response)
                  : sendJson(response, 404, { message: 'Not Found' });
      Promise.resolve(route).catch((error: unknown) => {
        if (!response.headersSent) sendJson(response, 500, { message: String(error) });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  baseUrl = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;

  return {
    url: baseUrl,
    clientId,
    clientSecret,
    upsertProject,
    projects: () => [...projects.values()],
    exports,
    counts,
    invalidDocuments,
    faults: {
      graphqlError: (operationName, message, count = 1) =>
        graphqlFaults.push({ operationName, message, remaining: count }),
      httpStatus: (statusCode, count = 1, retryAfterSeconds = undefined) =>
        httpFaults.push({ statusCode, remaining: count, retryAfterSeconds }),
      tokenStatus: (statusCode, count = 1) => tokenFaults.push({ statusCode, remaining: count }),
      expireTokens: () => tokens.clear(),
      failExports: (reason) => {
        exportFailure = reason;
      },
      untrackedDeliveries: (on) => {
        untrackedDeliveries = on;
      },
      fileNotFound: (count) => {
        fileNotFoundCount = count;
      },
      breakFiles: (count = 1) => {
        fileBreaks.broken = count;
      },
      stallFiles: (count = 1) => {
        fileBreaks.stalled = count;
      },
    },
    deliverFiles: (delivery) => {
      fileDelivery = delivery;
    },
    close: () =>
      new Promise((resolve) => {
        for (const response of openResponses) response.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface ExportInput {
  projectIds: string[];
  fileName: string;
  format: string;
  method: string;
  role?: string | null;
}

interface ProjectsInput {
  cursor?: string | null;
  page?: { skip: number; take: number } | null;
  filter?: {
    teamId?: string | null;
    statuses?: string[] | null;
    keyword?: string | null;
    isArchived?: boolean | null;
  } | null;
}

function encodeCursor(offset: number, take: number): string {
  return Buffer.from(`offset:${offset}:take:${take}`).toString('base64url');
}

function decodeCursor(cursor: string): { offset: number; take: number } {
  const match = /^offset:(\d{1,9}):take:(\d{1,4})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  const take = Number(match?.[2]);
  if (match === null || take < 1) throw new GraphQLError('invalid cursor');
  return { offset: Number(match[1]), take };
}

function sendJson(
  response: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

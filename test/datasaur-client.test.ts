import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATASAUR_SCHEMA,
  type FakeDatasaur,
  startFakeDatasaur,
} from '../scripts/local/fake-datasaur/server.ts';
import { createDatasaurClient, type DatasaurClientOptions } from '../shared/datasaur/client.ts';
import {
  DatasaurGraphqlError,
  DatasaurHttpError,
  DatasaurTimeoutError,
} from '../shared/datasaur/errors.ts';
import { EXPORT_TEXT_PROJECT, exportTextProject } from '../shared/datasaur/export-text-project.ts';
import {
  GET_EXPORT_DELIVERY_STATUS,
  getExportDeliveryStatus,
} from '../shared/datasaur/get-export-delivery-status.ts';
import { GET_PROJECT_CABINETS } from '../shared/datasaur/get-project-cabinets.ts';
import { GET_PROJECTS, getAllProjects, getProjects } from '../shared/datasaur/get-projects.ts';
import { retryAfterOf } from '../shared/datasaur/http.ts';
import { WALK_START, walkProjects } from '../shared/enrich/project-walk.ts';

let fake: FakeDatasaur;
beforeAll(async () => {
  fake = await startFakeDatasaur({ projects: [{ id: 'P1', status: 'COMPLETE' }] });
});
afterAll(() => fake.close());

const noWait = { sleep: async () => {}, random: () => 0.5 };

function clientFor(options: Partial<DatasaurClientOptions> = {}) {
  return createDatasaurClient({
    baseUrl: fake.url,
    credentials: { clientId: fake.clientId, clientSecret: fake.clientSecret },
    ...options,
    http: { ...noWait, ...options.http },
  });
}

describe('the documents the client sends', () => {
  it.each([EXPORT_TEXT_PROJECT, GET_EXPORT_DELIVERY_STATUS, GET_PROJECTS, GET_PROJECT_CABINETS])(
    '$operationName is valid against the Datasaur SDL',
    ({ query }) => {
      expect(validate(DATASAUR_SCHEMA, parse(query))).toEqual([]);
    },
  );

  it('a misspelt field is refused by the fake, as Datasaur would refuse it', async () => {
    const client = clientFor();
    const misspelt = {
      operationName: 'Bad',
      query: 'query Bad { getProjects(input: {}) { nodez { id } } }',
    };
    const refused = await client.request(misspelt, {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DatasaurHttpError);
    expect((refused as DatasaurHttpError).statusCode).toBe(400);
    expect((refused as DatasaurHttpError).body).toContain('nodez');
    expect(fake.invalidDocuments.at(-1)).toContain('nodez');
  });
});

describe('the access token', () => {
  it('is fetched once and reused across requests', async () => {
    const client = clientFor();
    const before = fake.counts.tokens;
    await getProjects(client, {});
    await getProjects(client, {});
    await Promise.all([getProjects(client, {}), getProjects(client, {})]);
    expect(fake.counts.tokens - before).toBe(1);
  });

  it('is fetched again shortly before it expires', async () => {
    let now = Date.parse('2026-11-30T00:00:00Z');
    const client = clientFor({ now: () => now });
    const before = fake.counts.tokens;
    await getProjects(client, {});
    now += 3_550_000; // 59 min 10 s: inside the minute before expires_in (3600 s) runs out
    await getProjects(client, {});
    expect(fake.counts.tokens - before).toBe(2);
  });

  it('is fetched again once when Datasaur answers AuthenticationError, and the request succeeds', async () => {
    const client = clientFor();
    await getProjects(client, {});
    const before = fake.counts.tokens;
    fake.faults.expireTokens();
    const page = await getProjects(client, {});
    expect(page.nodes.map((project) => project.id)).toContain('P1');
    expect(fake.counts.tokens - before).toBe(1);
  });

  it('is fetched again once on HTTP 401; a second 401 is the caller’s error', async () => {
    const client = clientFor();
    await getProjects(client, {});
    fake.faults.httpStatus(401, 1);
    await expect(getProjects(client, {})).resolves.toBeDefined();
    fake.faults.httpStatus(401, 2);
    const before = fake.counts.tokens;
    const refused = await getProjects(client, {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DatasaurHttpError);
    expect((refused as DatasaurHttpError).statusCode).toBe(401);
    expect(fake.counts.tokens - before).toBe(1);
  });

  it('is requested with the form Datasaur expects; wrong credentials are a typed 401', async () => {
    const client = createDatasaurClient({
      baseUrl: fake.url,
      credentials: { clientId: fake.clientId, clientSecret: 'wrong' },
      http: noWait,
    });
    const refused = await getProjects(client, {}).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DatasaurHttpError);
    expect((refused as DatasaurHttpError).statusCode).toBe(401);
    const json = await fetch(`${fake.url}/api/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: fake.clientId, client_secret: fake.clientSecret }),
    });
    expect(json.status).toBe(400);
  });
});

describe('failures', () => {
  it('retries 429 and 5xx with backoff, then succeeds', async () => {
    const delays: number[] = [];
    const client = clientFor({
      http: { sleep: async (ms) => void delays.push(ms), random: () => 1, baseDelayMs: 100 },
    });
    await getProjects(client, {});
    fake.faults.httpStatus(429, 1);
    fake.faults.httpStatus(503, 1);
    await expect(getProjects(client, {})).resolves.toBeDefined();
    expect(delays).toEqual([100, 200]);
  });

  it("waits as long as a 429's Retry-After asks, and leaves a wait too long for a function to the caller", async () => {
    const delays: number[] = [];
    const client = clientFor({
      http: { sleep: async (ms) => void delays.push(ms), random: () => 0, baseDelayMs: 100 },
    });
    await getProjects(client, {});
    const requests = () => fake.counts.graphql.GetProjectsQuery ?? 0;
    let before = requests();
    fake.faults.httpStatus(429, 1, 3);
    await expect(getProjects(client, {})).resolves.toBeDefined();
    expect(delays).toEqual([3000]);
    expect(requests() - before).toBe(2);

    before = requests();
    fake.faults.httpStatus(429, 1, 120);
    const failed = await getProjects(client, {}).catch((error: unknown) => error);
    expect(failed).toMatchObject({ statusCode: 429, retryAfterMs: 120_000 });
    expect(requests() - before).toBe(1);
    expect(delays).toEqual([3000]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-07T04:00:00Z');
    expect(retryAfterOf('7', now)).toBe(7000);
    expect(retryAfterOf('Mon, 07 Dec 2026 04:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterOf('Mon, 07 Dec 2026 03:00:00 GMT', now)).toBe(0);
    expect(retryAfterOf(null, now)).toBeUndefined();
    expect(retryAfterOf('soon', now)).toBeUndefined();
    expect(retryAfterOf('1.5', now)).toBeUndefined();
  });

  it('gives up after the attempts allowed, with the last HTTP error', async () => {
    const client = clientFor({ http: { maxAttempts: 3 } });
    await getProjects(client, {});
    const before = fake.counts.graphql.GetProjectsQuery ?? 0;
    fake.faults.httpStatus(502, 3);
    const failed = await getProjects(client, {}).catch((error: unknown) => error);
    expect((failed as DatasaurHttpError).statusCode).toBe(502);
    expect((fake.counts.graphql.GetProjectsQuery ?? 0) - before).toBe(3);
  });

  it('sends an export request again only after a 429: after a 5xx or a timeout the export may have started', async () => {
    const client = clientFor();
    await getProjects(client, {});
    const requests = () => fake.counts.graphql.ExportTextProjectQuery ?? 0;
    const input = {
      projectIds: ['P1'],
      fileName: 'P1',
      format: 'json_advanced',
      method: 'FILE_STORAGE',
    } as const;

    let before = requests();
    fake.faults.httpStatus(503, 1);
    const failed = await exportTextProject(client, input).catch((error: unknown) => error);
    expect((failed as DatasaurHttpError).statusCode).toBe(503);
    expect(requests() - before).toBe(1);

    before = requests();
    const exportsBefore = fake.exports.size;
    fake.faults.httpStatus(429, 1);
    await expect(exportTextProject(client, input)).resolves.toMatchObject({
      exportId: expect.any(String),
    });
    expect(requests() - before).toBe(2);
    expect(fake.exports.size - exportsBefore).toBe(1);
  });

  it('does not retry a GraphQL error: it is a typed error with the message', async () => {
    const client = clientFor();
    const before = fake.counts.graphql.ExportTextProjectQuery ?? 0;
    fake.faults.graphqlError('ExportTextProjectQuery', 'Export limit reached');
    const failed = await exportTextProject(client, {
      projectIds: ['P1'],
      fileName: 'P1',
      format: 'json_advanced',
      method: 'FILE_STORAGE',
    }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(DatasaurGraphqlError);
    expect((failed as Error).message).toContain('Export limit reached');
    expect((fake.counts.graphql.ExportTextProjectQuery ?? 0) - before).toBe(1);
  });

  it('times out a request that gets no answer, and retries it', async () => {
    const silent = createServer(() => {}); // never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    let attempts = 0;
    const client = createDatasaurClient({
      baseUrl: `http://127.0.0.1:${port}`,
      credentials: { clientId: 'a', clientSecret: 'b' },
      http: {
        ...noWait,
        timeoutMs: 50,
        maxAttempts: 2,
        fetch: (input, init) => {
          attempts += 1;
          return fetch(input, init);
        },
      },
    });
    const failed = await getProjects(client, {}).catch((error: unknown) => error);
    silent.closeAllConnections();
    silent.close();
    expect(failed).toBeInstanceOf(DatasaurTimeoutError);
    expect(attempts).toBe(2);
  });
});

describe('operations against the fake', () => {
  it('an export moves QUEUED → IN_PROGRESS → DELIVERED and its file answers 404 twice first', async () => {
    const client = clientFor();
    const result = await exportTextProject(client, {
      projectIds: ['P1'],
      fileName: 'P1-export',
      format: 'json_advanced',
      method: 'FILE_STORAGE',
      role: 'REVIEWER',
    });
    expect(result.exportId).toEqual(expect.any(String));
    const statuses = [];
    for (let poll = 0; poll < 3; poll += 1) {
      statuses.push(
        (await getExportDeliveryStatus(client, String(result.exportId))).deliveryStatus,
      );
    }
    expect(statuses).toEqual(['QUEUED', 'IN_PROGRESS', 'DELIVERED']);
    const answers = [];
    for (let get = 0; get < 3; get += 1) answers.push((await fetch(String(result.fileUrl))).status);
    expect(answers).toEqual([404, 404, 200]);
  });

  it('getAllProjects pages with the cursor until it is null, filtered by team and status', async () => {
    for (let index = 0; index < 23; index += 1) {
      fake.upsertProject({
        id: `T7-${String(index).padStart(2, '0')}`,
        status: index % 2 === 0 ? 'COMPLETE' : 'IN_REVIEW',
        team: { id: '7', name: 'Seven' },
        tags: [{ id: 't1', name: 'NER' }],
      });
    }
    const client = clientFor();
    const before = fake.counts.graphql.GetProjectsQuery ?? 0;
    const all = [];
    for await (const project of getAllProjects(client, { teamId: '7' }, 10)) all.push(project);
    expect(all).toHaveLength(23);
    expect((fake.counts.graphql.GetProjectsQuery ?? 0) - before).toBe(3);
    expect(all[0]).toMatchObject({
      id: 'T7-00',
      status: 'COMPLETE',
      team: { id: '7', name: 'Seven' },
      tags: [{ id: 't1', name: 'NER' }],
      createdDate: expect.any(String),
    });
    const complete = [];
    for await (const project of getAllProjects(client, { teamId: '7', statuses: ['COMPLETE'] })) {
      complete.push(project.id);
    }
    expect(complete).toHaveLength(12);
  });

  it("pages as Datasaur's own clients do, the first page by offset and the rest by cursor alone; a page naming itself next is an error, not a loop", async () => {
    // Datasaur's answer is played by a server of the test's own: no fake repeats a cursor.
    const inputs: unknown[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        response.setHeader('content-type', 'application/json');
        if (request.url?.endsWith('/api/oauth/token')) {
          response.end(
            JSON.stringify({ access_token: 't', token_type: 'bearer', expires_in: 3600 }),
          );
          return;
        }
        const { input } = JSON.parse(body).variables;
        inputs.push(input);
        const nodes = [{ id: `P${inputs.length}`, name: 'n', status: 'COMPLETE', tags: [] }];
        response.end(
          JSON.stringify({
            data: { result: { nodes, pageInfo: { nextCursor: 'c1', prevCursor: null } } },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = createDatasaurClient({
        baseUrl: `http://127.0.0.1:${port}`,
        credentials: { clientId: 'a', clientSecret: 'b' },
        http: noWait,
      });
      const seen: string[] = [];
      const walk = async () => {
        for await (const project of getAllProjects(client, { teamId: '7' }, 25))
          seen.push(project.id);
      };
      await expect(walk()).rejects.toThrow(/answered the page it was asked for as the next one/);
      expect(seen).toEqual(['P1', 'P2']);
      expect(inputs).toEqual([
        { page: { skip: 0, take: 25 }, filter: { teamId: '7' } },
        { cursor: 'c1', filter: { teamId: '7' } },
      ]);
    } finally {
      server.close();
    }
  });

  it('the admin route adds and updates projects over HTTP', async () => {
    const answer = await fetch(`${fake.url}/admin/projects`, {
      method: 'POST',
      body: JSON.stringify({
        id: 'ADM',
        status: 'COMPLETE',
        completedDate: '2026-11-30T01:00:00Z',
      }),
    });
    expect(answer.status).toBe(200);
    const client = clientFor();
    const page = await getProjects(client, { filter: { keyword: 'ADM' } });
    expect(page.nodes).toEqual([
      expect.objectContaining({
        id: 'ADM',
        status: 'COMPLETE',
        completedDate: '2026-11-30T01:00:00Z',
      }),
    ]);
  });
});

describe('a team walk (the enrichment) meeting a page that names itself as the next', () => {
  it('starts the next pass from the first page instead of stopping at that page forever', async () => {
    // Datasaur's answers are played by a stand-in client: no fake repeats a cursor.
    const datasaur = {
      baseUrl: 'http://stand-in',
      request: async <TData>(_operation: unknown, variables: Record<string, unknown>) => {
        const { cursor } = variables.input as { cursor?: string };
        const nodes = [
          { id: cursor === undefined ? 'P1' : 'P2', name: 'n', status: 'COMPLETE', tags: [] },
        ];
        return { result: { nodes, pageInfo: { nextCursor: 'c1', prevCursor: null } } } as TData;
      },
    };
    const visited: string[] = [];
    const outcome = await walkProjects(datasaur, '7', WALK_START, async (project) => {
      visited.push(project.id);
      return 'next';
    });
    expect(visited).toEqual(['P1', 'P2']);
    expect(outcome).toMatchObject({ position: WALK_START, complete: false });
    expect(String(outcome.error)).toMatch(/answered the page it was asked for as the next one/);
  });
});

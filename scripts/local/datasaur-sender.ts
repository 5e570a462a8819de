/**
 * Requests as Datasaur sends them: compact JSON signed with `X-Datasaur-Signature`, the
 * headers of its Node HTTP client, POST for events and PUT for export deliveries. Used by
 * `npm run send`, the tests and the load tools.
 */

import { eventIdOf, SIGNATURE_HEADER, signBody } from '../../shared/webhook/signature.ts';
import {
  generatedLabel,
  SEED_EVENTS,
  SEED_EXPORT_DELIVERY,
  type SeedEventType,
} from './seed-events.ts';

export type DatasaurMethod = 'POST' | 'PUT';

export interface DatasaurRequest {
  readonly method: DatasaurMethod;
  readonly headers: Readonly<Record<string, string>>;
  /** The exact bytes signed and sent. */
  readonly body: Buffer;
  /** What the receiver will call this event: hex SHA-256 of the body. */
  readonly eventId: string;
}

export interface SendOutcome {
  readonly eventId: string;
  /** HTTP status, or undefined when no answer came (connection refused, timeout). */
  readonly status: number | undefined;
  /** The response body, or what went wrong when there was no response. */
  readonly detail: string;
}

export interface SeedOverrides {
  readonly projectId?: string;
  readonly documentId?: string;
  /** `data.timestamp`; a fresh one makes a new event rather than a duplicate. */
  readonly timestamp: string;
  /** BEFORE_UPDATE_LABELS only: this many generated upserts instead of the documented one. */
  readonly labels?: number;
}

const SEND_TIMEOUT_MS = 30_000;

/** Signs `body` with `secret` and adds the headers Datasaur's client sends. */
export function signDatasaurRequest(
  body: Buffer | string,
  secret: string,
  method: DatasaurMethod = 'POST',
): DatasaurRequest {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return {
    method,
    body: bytes,
    eventId: eventIdOf(bytes),
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/plain, */*',
      'user-agent': 'Datasaur',
      [SIGNATURE_HEADER]: signBody(secret, bytes),
    },
  };
}

/** Sends one request; never throws, so a burst reports every outcome. */
export async function sendDatasaurRequest(
  url: string,
  request: DatasaurRequest,
): Promise<SendOutcome> {
  try {
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    return { eventId: request.eventId, status: response.status, detail: await response.text() };
  } catch (error) {
    return { eventId: request.eventId, status: undefined, detail: describeFetchError(error) };
  }
}

/** A documented example event as compact JSON, with the given ids and timestamp. */
export function seedEventBody(type: SeedEventType, overrides: SeedOverrides): string {
  const event = structuredClone(SEED_EVENTS[type]) as {
    eventType: string;
    data: {
      timestamp: string;
      project?: { id: string };
      document?: { id: string };
      labelUpdateList?: { toUpsertList: Array<{ documentId: string }> };
    };
  };
  event.data.timestamp = overrides.timestamp;
  if (overrides.labels !== undefined) {
    if (event.data.labelUpdateList === undefined || event.data.document === undefined) {
      throw new Error(`${type} carries no labels`);
    }
    const documentId = overrides.documentId ?? event.data.document.id;
    event.data.labelUpdateList.toUpsertList = Array.from({ length: overrides.labels }, (_, i) =>
      generatedLabel(documentId, i),
    );
  }
  if (overrides.projectId !== undefined) {
    if (event.data.project === undefined) throw new Error(`${type} carries no project id`);
    event.data.project.id = overrides.projectId;
  }
  if (overrides.documentId !== undefined) {
    if (event.data.document === undefined) throw new Error(`${type} carries no document id`);
    event.data.document.id = overrides.documentId;
    for (const label of event.data.labelUpdateList?.toUpsertList ?? []) {
      label.documentId = overrides.documentId;
    }
  }
  return JSON.stringify(event);
}

/**
 * A label event body grown to `bytes`: generated labels while a whole one fits (a large
 * save, as Datasaur sends it), then the rest through its document's name.
 */
export function paddedLabelBody(body: string, bytes: number): string {
  const event = JSON.parse(body) as {
    data: {
      document: { id: string; name: string };
      labelUpdateList: { toUpsertList: unknown[] };
    };
  };
  const { document, labelUpdateList } = event.data;
  const labelBytes = (index: number) =>
    Buffer.byteLength(JSON.stringify(generatedLabel(document.id, index))) + 1;
  let size = Buffer.byteLength(body);
  for (let index = 0; size + labelBytes(index) <= bytes; index += 1) {
    labelUpdateList.toUpsertList.push(generatedLabel(document.id, index));
    size += labelBytes(index);
  }
  document.name += 'x'.repeat(Math.max(0, bytes - size));
  return JSON.stringify(event);
}

/** The documented export delivery body, for a PUT. */
export function exportDeliveryBody(
  overrides: Omit<SeedOverrides, 'timestamp'> & { readonly fileUrl?: string } = {},
): string {
  return JSON.stringify({
    ...SEED_EXPORT_DELIVERY,
    ...(overrides.projectId === undefined ? {} : { projectId: overrides.projectId }),
    ...(overrides.documentId === undefined ? {} : { documentId: overrides.documentId }),
    ...(overrides.fileUrl === undefined ? {} : { fileUrl: overrides.fileUrl }),
  });
}

/** Fresh ISO timestamps, each later than the one before, so no two bodies coincide. */
export function freshTimestamps(): () => string {
  let last = 0;
  return () => {
    last = Math.max(Date.now(), last + 1);
    return new Date(last).toISOString();
  };
}

function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${SEND_TIMEOUT_MS / 1000} s`;
  }
  // fetch hides the network error (ECONNREFUSED, …) in `cause`.
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

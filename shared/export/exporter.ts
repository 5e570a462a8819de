/**
 * Archives one export: asks Datasaur for it (or takes the file Datasaur pushed), polls until it
 * is delivered, streams the file into the archive bucket with its sha256 and size, and keeps
 * an `exportArchive` item on the project saying where it stands. One attempt never waits
 * longer than its budget: what is not ready by then is retried later through the queue.
 */
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DatasaurClient } from '../datasaur/client.ts';
import {
  CredentialsMalformedError,
  CredentialsMissingError,
} from '../datasaur/credentials-secret.ts';
import { CredentialsRefusedError, DatasaurHttpError } from '../datasaur/errors.ts';
import { type ExportRole, exportTextProject } from '../datasaur/export-text-project.ts';
import { getExportDeliveryStatus } from '../datasaur/get-export-delivery-status.ts';
import { describeError } from '../runtime/errors.ts';
import { removeDeliveryLink } from '../store/delivery-links.ts';
import type {
  ExportArchiveItem,
  ExportReasonCode,
  ExportStatus,
  ExportTrigger,
  ProjectItem,
} from '../store/items.ts';
import {
  exportArchiveKey,
  exportObjectKey,
  exportStatusKeys,
  exportStatusPartition,
  projectKey,
} from '../store/keys.ts';
import { isConditionalCheckFailed, type TableDocuments } from '../store/table-documents.ts';
import {
  DEFAULT_MAX_EXPORT_BYTES,
  type DownloadConnection,
  DownloadDeadlineError,
  type DownloadPolicy,
  type DownloadResponse,
  DownloadStalledError,
  openDownload,
  shownUrl,
  signedLinkExpiry,
  TooLargeError,
  UrlRefusedError,
} from './download.ts';
import type { ExportRequest } from './export-trigger.ts';
import type { ArchiveUploader } from './light-archive-uploader.ts';

/** Not finished within this attempt's budget (still exporting, file not there yet): retry later. */
export class ExportNotReadyError extends Error {
  override readonly name = 'ExportNotReadyError';
}

/** A pushed export's link expired before its file was copied: only a new export helps. */
class LinkExpiredError extends Error {
  override readonly name = 'LinkExpiredError';
}

/** Datasaur reported the export FAILED: no retry can change that. */
class DatasaurExportFailedError extends Error {
  override readonly name = 'DatasaurExportFailedError';
}

/** The team id used in keys when no event has told the product the project's team. */
export const UNKNOWN_TEAM = 'unknown-team';

export interface ExporterOptions {
  readonly datasaur: DatasaurClient;
  readonly documents: TableDocuments;
  readonly tableName: string;
  /** Streams the file into the bucket (`lightArchiveUploader`). */
  readonly uploader: ArchiveUploader;
  readonly bucket: string;
  /** `format` of exportTextProject, e.g. `json_advanced`. */
  readonly format: string;
  /** Attempts of one export; a failure of the last is recorded as FAILED, not retried. @default 6 */
  readonly maxAttempts?: number;
  /** Longest one attempt spends waiting (status polls, a file answering 404). @default 60 s */
  readonly budgetMs?: number;
  /**
   * Longest one attempt runs in all, download included, when the caller gives no deadline
   * (Lambda gives its remaining time; the local stack relies on this). @default 100 s
   */
  readonly attemptMs?: number;
  /** First wait between polls or downloads; it doubles up to `maxDelayMs`. @default 1 s */
  readonly firstDelayMs?: number;
  /** @default 8 s */
  readonly maxDelayMs?: number;
  /** How long a claimed export stays with the request working on it. @default 15 min */
  readonly leaseMs?: number;
  /**
   * Which file URLs are downloaded, and how many bytes at most (see download.ts).
   * @default public https hosts only, 5 GiB
   */
  readonly download?: DownloadPolicy;
  /** The resolver and CAs the download uses; tests point names at local servers. @default the system's */
  readonly connection?: DownloadConnection;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Reports each step (`exporting`, `polled`, `downloading`…), for logs and `npm run export`. */
  readonly onProgress?: (step: string, details: Record<string, unknown>) => void;
}

export const DEFAULT_EXPORT_MAX_ATTEMPTS = 6;

export interface ExportOutcome {
  /**
   * ARCHIVED or FAILED now; WAITING when it cannot start for lack of usable credentials (the
   * resume check queues it again); SKIPPED when another request has it or had it already.
   */
  readonly outcome: 'ARCHIVED' | 'FAILED' | 'WAITING' | 'SKIPPED';
  readonly item: ExportArchiveItem | undefined;
}

export interface Exporter {
  /**
   * One attempt, on behalf of `claimId` (the queue message id, the same on its redeliveries).
   * Throws when the export should be tried again later; the attempts are counted on the item
   * (not by the queue's receive count), so the last one records FAILED. `deadline` (epoch ms)
   * is when the attempt must be over, the download included; past it the attempt gives up
   * and is retried. @default now + attemptMs
   */
  archive(request: ExportRequest, claimId: string, deadline?: number): Promise<ExportOutcome>;
}

interface Target {
  readonly projectId: string;
  readonly teamId: string;
  readonly trigger: ExportTrigger;
  readonly statusAt: string;
  readonly role?: ExportRole;
  /** Set for a pushed export: the file is already there. */
  readonly fileUrl?: string;
  /** A pushed export's delivery event, whose link goes once the export is over. */
  readonly deliveryEventId?: string;
}

export function createExporter(options: ExporterOptions): Exporter {
  const { documents, tableName } = options;
  const now = options.now ?? Date.now;
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const budgetMs = options.budgetMs ?? 60_000;
  const attemptMs = options.attemptMs ?? 100_000;
  const firstDelayMs = options.firstDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 8_000;
  const leaseMs = options.leaseMs ?? 15 * 60_000;
  const maxAttempts = options.maxAttempts ?? DEFAULT_EXPORT_MAX_ATTEMPTS;
  const downloadPolicy = options.download ?? { maxBytes: DEFAULT_MAX_EXPORT_BYTES };
  const progress = options.onProgress ?? (() => {});
  const iso = (time = now()) => new Date(time).toISOString();

  async function projectOf(projectId: string): Promise<ProjectItem | undefined> {
    const { Item } = await documents.get({ TableName: tableName, Key: projectKey(projectId) });
    return Item as ProjectItem | undefined;
  }

  async function targetOf(request: ExportRequest): Promise<Target> {
    switch (request.kind) {
      case 'transition':
        return {
          projectId: request.projectId,
          teamId: request.teamId,
          trigger: request.status,
          statusAt: request.statusAt,
          role: request.status === 'REVIEWED' ? 'REVIEWER' : 'LABELER',
        };
      case 'delivery': {
        const project = await projectOf(request.projectId);
        return {
          projectId: request.projectId,
          teamId: project?.teamId ?? UNKNOWN_TEAM,
          trigger: 'PUSHED',
          statusAt: request.receivedAt,
          fileUrl: request.fileUrl,
          ...(request.eventId === undefined ? {} : { deliveryEventId: request.eventId }),
        };
      }
      case 'manual': {
        const project = await projectOf(request.projectId);
        return {
          projectId: request.projectId,
          teamId: project?.teamId ?? UNKNOWN_TEAM,
          trigger: 'MANUAL',
          statusAt: request.requestedAt,
          role: project?.status === 'REVIEWED' ? 'REVIEWER' : 'LABELER',
        };
      }
    }
  }

  /**
   * Takes the export for this attempt, in one conditional write: it is new, WAITING for
   * credentials, or still REQUESTED and either already this request's or left by a request
   * whose lease ran out.
   * Anything else (archived, failed, another request at work) is not this attempt's to do.
   */
  async function claim(target: Target, claimId: string): Promise<ExportArchiveItem | undefined> {
    const requestedAt = iso();
    const statusKeys = exportStatusKeys('REQUESTED', requestedAt, target.teamId, target.projectId);
    const always: Record<string, unknown> = {
      itemType: 'exportArchive',
      projectId: target.projectId,
      teamId: target.teamId,
      trigger: target.trigger,
      statusAt: target.statusAt,
      status: 'REQUESTED' satisfies ExportStatus,
      bucket: options.bucket,
      key: exportObjectKey(target.teamId, target.projectId, target.trigger, target.statusAt),
      claimedBy: claimId,
      leaseUntil: iso(now() + leaseMs),
      gsi1pk: statusKeys.gsi1pk,
      ...(target.trigger === 'PUSHED' ? {} : { format: options.format }),
      ...(target.role === undefined ? {} : { role: target.role }),
    };
    const firstOnly: Record<string, unknown> = { requestedAt, gsi1sk: statusKeys.gsi1sk };
    const names = [...Object.keys(always), ...Object.keys(firstOnly), 'attempts'];
    try {
      const { Attributes } = await documents.update({
        TableName: tableName,
        Key: exportArchiveKey(target.projectId, target.trigger, target.statusAt),
        UpdateExpression: `SET ${[
          ...Object.keys(always).map((name) => `#${name} = :${name}`),
          ...Object.keys(firstOnly).map((name) => `#${name} = if_not_exists(#${name}, :${name})`),
          '#attempts = if_not_exists(#attempts, :zero) + :one',
        ].join(', ')} REMOVE reasonCode, reason`,
        ConditionExpression:
          'attribute_not_exists(pk) OR #status = :waiting OR (#status = :status AND (#claimedBy = :claimedBy OR #leaseUntil < :requestedAt))',
        ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: {
          ...Object.fromEntries(
            Object.entries({ ...always, ...firstOnly }).map(([name, value]) => [`:${name}`, value]),
          ),
          ':zero': 0,
          ':one': 1,
          ':waiting': 'WAITING' satisfies ExportStatus,
        },
        ReturnValues: 'ALL_NEW',
      });
      return Attributes as ExportArchiveItem;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Updates the claimed item, only while this attempt still holds it. `release`: `done`
   * (ARCHIVED or FAILED: the claim and the pre-signed link go) or `wait` (WAITING: the claim
   * goes, so the resume check's request can take it).
   */
  async function update(
    item: ExportArchiveItem,
    claimId: string,
    set: Record<string, unknown>,
    release?: 'done' | 'wait',
  ): Promise<ExportArchiveItem> {
    const names = Object.keys(set);
    const removed =
      release === 'done'
        ? ' REMOVE claimedBy, leaseUntil, fileUrl, fileUrlExpiredAt'
        : release === 'wait'
          ? ' REMOVE claimedBy, leaseUntil'
          : '';
    const { Attributes } = await documents.update({
      TableName: tableName,
      Key: { pk: item.pk, sk: item.sk },
      UpdateExpression: `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}${removed}`,
      ConditionExpression: 'claimedBy = :claimId',
      ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
      ExpressionAttributeValues: {
        ':claimId': claimId,
        ...Object.fromEntries(names.map((name) => [`:${name}`, set[name]])),
      },
      ReturnValues: 'ALL_NEW',
    });
    return Attributes as ExportArchiveItem;
  }

  /** Waits `delay` unless that would overrun the attempt's deadline. */
  async function waitOrGiveUp(delay: number, deadline: number, what: string): Promise<void> {
    if (now() + delay > deadline) throw new ExportNotReadyError(what);
    await sleep(delay);
  }

  const nextDelay = (delay: number) => Math.min(delay * 2, maxDelayMs);

  /** Asks Datasaur for the export once per claim, then polls until it is delivered. */
  async function exportedFileUrl(
    item: ExportArchiveItem,
    target: Target,
    claimId: string,
    deadline: number,
  ): Promise<{ item: ExportArchiveItem; fileUrl: string }> {
    if (target.fileUrl !== undefined) return { item, fileUrl: target.fileUrl };
    let current = item;
    // A retry resumes the export an earlier attempt started, while its link is still valid.
    const resumable =
      current.exportId !== undefined &&
      current.fileUrl !== undefined &&
      (current.fileUrlExpiredAt === undefined || Date.parse(current.fileUrlExpiredAt) > now());
    if (!resumable) {
      const result = await exportTextProject(options.datasaur, {
        projectIds: [target.projectId],
        fileName: `${target.projectId}-${target.trigger}-${target.statusAt}`,
        format: options.format,
        method: 'FILE_STORAGE',
        ...(target.role === undefined ? {} : { role: target.role }),
      });
      if (result.exportId === null || result.fileUrl === null) {
        throw new Error('exportTextProject answered without an exportId and a fileUrl');
      }
      current = await update(current, claimId, {
        exportId: result.exportId,
        fileUrl: result.fileUrl,
        ...(result.fileUrlExpiredAt === null ? {} : { fileUrlExpiredAt: result.fileUrlExpiredAt }),
      });
    }
    const exportId = current.exportId as string;
    const fileUrl = current.fileUrl as string;
    progress('exporting', { exportId });

    let delay = firstDelayMs;
    for (let poll = 1; ; poll += 1) {
      const status = await getExportDeliveryStatus(options.datasaur, exportId);
      progress('polled', { exportId, deliveryStatus: status.deliveryStatus });
      if (status.deliveryStatus === 'DELIVERED') return { item: current, fileUrl };
      // NONE: Datasaur tracks no delivery for this export (it does not document when), so
      // its link is the only word left; fetchFile waits while the file is not there yet.
      if (status.deliveryStatus === 'NONE') return { item: current, fileUrl };
      if (status.deliveryStatus === 'FAILED') {
        const detail = status.errors?.[0]?.stack?.split('\n')[0] ?? 'no error given';
        throw new DatasaurExportFailedError(`Datasaur reported the export FAILED: ${detail}`);
      }
      await waitOrGiveUp(
        delay,
        deadline,
        `the export was still ${status.deliveryStatus} after ${poll} status polls`,
      );
      delay = nextDelay(delay);
    }
  }

  /**
   * GETs the file, waiting while it answers 404 (or 403) as it does until it is ready. A
   * pushed link (`pushed`) that answers so past the expiry it was signed with is over: no
   * wait brings it back, and no retry can ask Datasaur for it again.
   */
  async function fetchFile(
    fileUrl: string,
    deadline: number,
    attemptDeadline: number,
    pushed: boolean,
  ): Promise<DownloadResponse> {
    const expiresAt = pushed ? signedLinkExpiry(fileUrl) : undefined;
    // The URL is pre-signed: a credential. Errors name only where it points.
    const shown = shownUrl(fileUrl);
    let delay = firstDelayMs;
    for (let attempt = 1; ; attempt += 1) {
      // The download's clocks are real ones: the deadline as the wall clock sees it.
      const response = await openDownload(
        fileUrl,
        downloadPolicy,
        options.connection,
        Date.now() + (attemptDeadline - now()),
      );
      if (response.status >= 200 && response.status < 300) return response;
      response.body.destroy();
      if (response.status !== 404 && response.status !== 403) {
        throw new DatasaurHttpError(response.status, shown, '');
      }
      if (expiresAt !== undefined && now() >= expiresAt) {
        throw new LinkExpiredError(
          `the pushed link expired at ${new Date(expiresAt).toISOString()} (HTTP ${response.status}): ask Datasaur for a new export`,
        );
      }
      progress('file not ready', { status: response.status, attempt });
      await waitOrGiveUp(
        delay,
        deadline,
        `the file was not ready (HTTP ${response.status} ${attempt} times)`,
      );
      delay = nextDelay(delay);
    }
  }

  /**
   * Streams the file into the bucket, hashing and counting on the way; nothing is buffered
   * whole. Past 5 MiB the upload is multipart; when the download fails (stalled, cut off,
   * too large, deadline) the upload fails with it and aborts its multipart upload, so no
   * object and no parts are left, and the next attempt starts from the first byte.
   */
  async function store(
    response: DownloadResponse,
    key: string,
  ): Promise<{ bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    let bytes = 0;
    const body = new PassThrough();
    body.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    const source = response.body;
    // pipeline() destroys `body` with the download's error, which fails the upload.
    const piping = pipeline(source, body);
    const upload = options.uploader.upload({
      bucket: options.bucket,
      key,
      body,
      contentType: 'application/zip',
    });
    // An upload that fails stops the download too, rather than leaving it to stall.
    const uploading = upload.catch((error: unknown) => {
      source.destroy();
      throw error;
    });
    // Both settle before returning: the upload's abort has been sent once this returns.
    const [uploaded, piped] = await Promise.allSettled([uploading, piping]);
    // The side that failed first says why; the other only echoes it. A download the upload
    // stopped ends with an AbortError or a premature close, none of a download's own errors.
    if (
      uploaded.status === 'rejected' &&
      (piped.status === 'fulfilled' || stoppedByUpload(piped.reason))
    ) {
      throw new ArchiveWriteError(uploaded.reason);
    }
    if (piped.status === 'rejected') throw piped.reason;
    if (uploaded.status === 'rejected') throw new ArchiveWriteError(uploaded.reason);
    return { bytes, sha256: hash.digest('hex') };
  }

  async function finish(
    item: ExportArchiveItem,
    claimId: string,
    status: 'ARCHIVED' | 'FAILED',
    fields: Record<string, unknown>,
  ): Promise<ExportArchiveItem> {
    return update(
      item,
      claimId,
      { status, gsi1pk: exportStatusPartition(status), ...fields },
      'done',
    );
  }

  /** WAITING for credentials: the claim is released and this attempt is not counted. */
  async function wait(
    item: ExportArchiveItem,
    claimId: string,
    reasonCode: ExportReasonCode,
    reason: string,
  ): Promise<ExportArchiveItem> {
    return update(
      item,
      claimId,
      {
        status: 'WAITING' satisfies ExportStatus,
        gsi1pk: exportStatusPartition('WAITING'),
        attempts: Math.max(0, item.attempts - 1),
        reasonCode,
        reason,
      },
      'wait',
    );
  }

  /** One attempt at a claimed export: archived, failed for good, waiting, or thrown to retry. */
  async function attempt(
    claimed: ExportArchiveItem,
    target: Target,
    claimId: string,
    attemptDeadline: number,
  ): Promise<ExportOutcome> {
    const deadline = Math.min(now() + budgetMs, attemptDeadline);
    let item = claimed;
    let downloading = false;
    try {
      const exported = await exportedFileUrl(item, target, claimId, deadline);
      item = exported.item;
      downloading = true;
      const response = await fetchFile(
        exported.fileUrl,
        deadline,
        attemptDeadline,
        target.fileUrl !== undefined,
      );
      progress('downloading', { key: item.key, from: response.origin });
      const stored = await store(response, item.key);
      const archived = await finish(item, claimId, 'ARCHIVED', {
        archivedAt: iso(),
        ...stored,
      });
      return { outcome: 'ARCHIVED', item: archived };
    } catch (error) {
      const waiting = waitingOf(error);
      if (waiting !== undefined) {
        const waited = await wait(item, claimId, waiting.reasonCode, waiting.reason);
        return { outcome: 'WAITING', item: waited };
      }
      const failure = failureOf(error, downloading);
      if (!failure.final && item.attempts < maxAttempts) throw error;
      const failed = await finish(item, claimId, 'FAILED', {
        failedAt: iso(),
        reasonCode: failure.reasonCode,
        reason: `${failure.reason} (attempt ${item.attempts})`,
      });
      return { outcome: 'FAILED', item: failed };
    }
  }

  /**
   * Once a pushed export is ARCHIVED or FAILED, its delivery's event item no longer needs
   * Datasaur's pre-signed link: it goes (see delivery-links.ts). Also run when a request finds
   * the export already over (a redelivered `PUT`, or this request's own redelivery after an
   * attempt died right after writing the status), so every delivery of it loses its link.
   */
  async function endLink(target: Target, item: ExportArchiveItem | undefined): Promise<void> {
    if (target.deliveryEventId === undefined || item === undefined) return;
    if (item.status !== 'ARCHIVED' && item.status !== 'FAILED') return;
    const delivery = {
      projectId: target.projectId,
      receivedAt: target.statusAt,
      eventId: target.deliveryEventId,
    };
    if (await removeDeliveryLink(documents, tableName, delivery, item.status, iso())) {
      progress('link removed', { eventId: delivery.eventId, status: item.status });
    }
  }

  return {
    async archive(request, claimId, attemptDeadline = now() + attemptMs) {
      const target = await targetOf(request);
      const claimed = await claim(target, claimId);
      if (claimed === undefined) {
        const { Item } = await documents.get({
          TableName: tableName,
          Key: exportArchiveKey(target.projectId, target.trigger, target.statusAt),
          ConsistentRead: true,
        });
        const item = Item as ExportArchiveItem | undefined;
        await endLink(target, item);
        return { outcome: 'SKIPPED', item };
      }
      const outcome = await attempt(claimed, target, claimId, attemptDeadline);
      // After the status is written: a failure here retries the request, which finds the
      // export over (SKIPPED above) and removes the link then.
      await endLink(target, outcome.item);
      return outcome;
    },
  };
}

/** The export cannot start until someone fills (or corrects) the credentials secret. */
function waitingOf(error: unknown): { reasonCode: ExportReasonCode; reason: string } | undefined {
  if (error instanceof CredentialsMissingError) {
    return {
      reasonCode: 'CREDENTIALS_MISSING',
      reason:
        'the Datasaur credentials secret is empty: fill it (docs/export-archiving.md) and the export starts by itself',
    };
  }
  if (error instanceof CredentialsMalformedError) {
    return {
      reasonCode: 'CREDENTIALS_INVALID',
      reason: `${error.message}: correct the credentials secret and the export starts by itself`,
    };
  }
  if (error instanceof CredentialsRefusedError) {
    return {
      reasonCode: 'CREDENTIALS_INVALID',
      reason: `Datasaur refused the credentials (HTTP ${error.statusCode}): correct the credentials secret and the export starts by itself`,
    };
  }
  return undefined;
}

/**
 * What an attempt's error means for the export: its reason code, its reason, and whether it
 * is final (no retry can change it) or worth another attempt while attempts remain.
 */
/** A download ended because the upload it fed stopped reading it, not by a fault of its own. */
function stoppedByUpload(error: unknown): boolean {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return name === 'AbortError' || code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** The archive bucket refused the object (permissions, a key policy, the bucket gone). */
class ArchiveWriteError extends Error {
  override readonly name = 'ArchiveWriteError';
  constructor(cause: unknown) {
    super(`the archive bucket refused the file: ${describeError(cause)}`, { cause });
  }
}

function failureOf(
  error: unknown,
  downloading: boolean,
): { reasonCode: ExportReasonCode; reason: string; final: boolean } {
  if (error instanceof UrlRefusedError) {
    return { reasonCode: 'URL_REFUSED', reason: error.message, final: true };
  }
  if (error instanceof TooLargeError) {
    return { reasonCode: 'TOO_LARGE', reason: error.message, final: true };
  }
  if (error instanceof DatasaurExportFailedError) {
    return { reasonCode: 'DATASAUR_FAILED', reason: error.message, final: true };
  }
  if (error instanceof LinkExpiredError) {
    return { reasonCode: 'LINK_EXPIRED', reason: error.message, final: true };
  }
  if (error instanceof ExportNotReadyError) {
    return { reasonCode: 'FILE_NOT_READY', reason: error.message, final: false };
  }
  if (error instanceof DownloadStalledError) {
    return { reasonCode: 'DOWNLOAD_STALLED', reason: error.message, final: false };
  }
  if (error instanceof DownloadDeadlineError) {
    return { reasonCode: 'DEADLINE', reason: error.message, final: false };
  }
  if (error instanceof ArchiveWriteError) {
    return { reasonCode: 'ARCHIVE_WRITE_FAILED', reason: error.message, final: false };
  }
  return {
    reasonCode: downloading ? 'DOWNLOAD_FAILED' : 'DATASAUR_UNAVAILABLE',
    reason: describeError(error),
    final: false,
  };
}

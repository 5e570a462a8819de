/** One JSON request to Datasaur with a per-attempt timeout and bounded retries on transient failures. */
import {
  DatasaurHttpError,
  DatasaurNetworkError,
  DatasaurTimeoutError,
  isTransient,
} from './errors.ts';
import { nodePost, type Post, type PostAnswer } from './node-post.ts';

export interface HttpSettings {
  /** Sends one POST: `node:http(s)` (`nodePost`), or `fetch` in a test. */
  readonly fetch: Post;
  /** Longest wait for one attempt's whole answer. */
  readonly timeoutMs: number;
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Backoff before the second attempt; it doubles each time, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1): the jitter. */
  readonly random: () => number;
}

export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  fetch: nodePost,
  timeoutMs: 10_000,
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

/** "Full jitter": a random wait up to the exponential bound, so retrying clients spread out. */
export function backoffDelay(
  attempt: number,
  settings: Pick<HttpSettings, 'baseDelayMs' | 'maxDelayMs' | 'random'>,
): number {
  const bound = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(bound * settings.random());
}

/**
 * The longest `Retry-After` waited in process: a longer one is left to the caller's own retry
 * (the queue's), not slept through in a function that is billed while it waits.
 */
export const MAX_RETRY_AFTER_MS = 20_000;

/** A `Retry-After` header (seconds, or an HTTP date) as ms from `now`, or undefined. */
export function retryAfterOf(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d{1,9}$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) || !/[a-z]/i.test(value) ? undefined : Math.max(0, at - now);
}

/**
 * POSTs and returns the parsed JSON answer; retries 429, 5xx, timeouts and network errors,
 * or only what `retryable` allows (a request that starts work is retried only when refused).
 */
export async function postJson(
  settings: HttpSettings,
  url: string,
  init: { headers: Record<string, string>; body: string },
  retryable: (error: unknown) => boolean = isTransient,
): Promise<unknown> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await postOnce(settings, url, init);
    } catch (error) {
      if (!retryable(error) || attempt >= settings.maxAttempts) throw error;
      // Datasaur's own word on when to come back beats the backoff, within reason.
      const asked = error instanceof DatasaurHttpError ? error.retryAfterMs : undefined;
      if (asked !== undefined && asked > MAX_RETRY_AFTER_MS) throw error;
      await settings.sleep(Math.max(asked ?? 0, backoffDelay(attempt, settings)));
    }
  }
}

async function postOnce(
  settings: HttpSettings,
  url: string,
  init: { headers: Record<string, string>; body: string },
): Promise<unknown> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), settings.timeoutMs);
  let text: string;
  let response: PostAnswer;
  try {
    response = await settings.fetch(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      signal: controller.signal,
    });
    text = await response.text();
  } catch (error) {
    if (controller.signal.aborted) throw new DatasaurTimeoutError(url, settings.timeoutMs);
    throw new DatasaurNetworkError(url, error);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const retryAfterMs = retryAfterOf(response.headers.get('retry-after'), Date.now());
    throw new DatasaurHttpError(response.status, url, text.slice(0, 500), retryAfterMs);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DatasaurHttpError(response.status, url, `not JSON: ${text.slice(0, 200)}`);
  }
}

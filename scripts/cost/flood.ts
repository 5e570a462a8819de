/**
 * What a flood of requests costs the owner, before and after the secret path (docs/flood.md):
 * the defence's fixed monthly part (its metric filters and alarms) and the cost of a million
 * junk requests from a sender who does not know the URL, and from one who does.
 */
import { GIGABYTE, MILLION, PRICES, SECONDS_PER_MONTH } from './prices.ts';

export interface FloodCostInputs {
  /** Access log line of a request no route matched (API Gateway's own 404). */
  readonly unroutedAccessLogBytes: number;
  /** Access log line of a request the ingest refused (401). */
  readonly refusedAccessLogBytes: number;
  /** What the ingest logs refusing one. */
  readonly refusedIngestLogBytes: number;
  /** Billed duration of a refused invocation; the accepted one's is an upper bound. */
  readonly ingestMillisecondsPerRequest: number;
  readonly ingestMemoryMb: number;
  readonly floodMetricFilters: number;
  readonly floodAlarms: number;
  /** Routes with an integration, each with its own throttle of `webhookRouteRateLimit`/s. */
  readonly webhookRoutes: number;
  readonly webhookRouteRateLimit: number;
}

export interface FloodCostEstimate {
  /** The defence's own metrics and alarms, per month at any volume. */
  readonly fixedMonthlyUsd: number;
  /**
   * A million requests without the URL, now: API Gateway's 404 and its access log line. API
   * Gateway documents that throttled and unauthorized requests are not billed but says
   * nothing of unmatched ones, so they are priced as billed (an upper bound).
   */
  readonly perMillionWithoutUrlUsd: number;
  /**
   * A million unsigned requests that reach the ingest (401): what every junk request cost
   * before the defence, and what a holder of the URL can still make the owner pay.
   */
  readonly perMillionReachingIngestUsd: number;
  /** The most a holder of the URL can send in a month: every route's throttle, full time. */
  readonly urlHolderMaxRequestsPerMonth: number;
  readonly urlHolderMaxMonthlyUsd: number;
}

export function estimateFloodCost(inputs: FloodCostInputs): FloodCostEstimate {
  const logsUsd = (bytes: number) => ((bytes * MILLION) / GIGABYTE) * PRICES.logsPerGbIngested;
  const perMillionWithoutUrlUsd =
    PRICES.httpApiPerMillionRequests + logsUsd(inputs.unroutedAccessLogBytes);
  const gbSeconds =
    MILLION *
    (Math.ceil(inputs.ingestMillisecondsPerRequest) / 1000) *
    (inputs.ingestMemoryMb / 1024);
  const perMillionReachingIngestUsd =
    PRICES.httpApiPerMillionRequests +
    PRICES.lambdaPerMillionRequests +
    gbSeconds * PRICES.lambdaArm64PerGbSecond +
    logsUsd(inputs.refusedAccessLogBytes + inputs.refusedIngestLogBytes);
  const urlHolderMaxRequestsPerMonth =
    inputs.webhookRoutes * inputs.webhookRouteRateLimit * SECONDS_PER_MONTH;
  return {
    fixedMonthlyUsd:
      inputs.floodMetricFilters * PRICES.customMetricPerMonth +
      inputs.floodAlarms * PRICES.alarmPerMonth,
    perMillionWithoutUrlUsd,
    perMillionReachingIngestUsd,
    urlHolderMaxRequestsPerMonth,
    urlHolderMaxMonthlyUsd: (urlHolderMaxRequestsPerMonth / MILLION) * perMillionReachingIngestUsd,
  };
}

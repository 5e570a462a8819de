/** Where an export stands: QUEUED, IN_PROGRESS, then DELIVERED or FAILED; NONE: not tracked. */
import type { DatasaurClient, GraphqlOperation } from './client.ts';

export const GET_EXPORT_DELIVERY_STATUS: GraphqlOperation = {
  operationName: 'GetExportDeliveryStatus',
  query: `query GetExportDeliveryStatus($exportId: ID!) {
  exportDeliveryStatus: getExportDeliveryStatus(exportId: $exportId) {
    deliveryStatus
    errors {
      id
      stack
      args
    }
  }
}`,
};

export const EXPORT_DELIVERY_STATUSES = [
  'QUEUED',
  'IN_PROGRESS',
  'DELIVERED',
  'FAILED',
  'NONE',
] as const;
export type ExportDeliveryStatus = (typeof EXPORT_DELIVERY_STATUSES)[number];

export interface ExportDeliveryError {
  readonly id: string | null;
  readonly stack: string | null;
  readonly args: unknown;
}

export interface ExportDeliveryStatusResult {
  readonly deliveryStatus: ExportDeliveryStatus;
  readonly errors: readonly ExportDeliveryError[] | null;
}

export async function getExportDeliveryStatus(
  client: DatasaurClient,
  exportId: string,
): Promise<ExportDeliveryStatusResult> {
  const data = await client.request<{ exportDeliveryStatus: ExportDeliveryStatusResult }>(
    GET_EXPORT_DELIVERY_STATUS,
    { exportId },
  );
  return data.exportDeliveryStatus;
}

/** Asks Datasaur to export a project (a query, not a mutation, in Datasaur's schema). */
import type { DatasaurClient, GraphqlOperation } from './client.ts';

export const EXPORT_TEXT_PROJECT: GraphqlOperation = {
  operationName: 'ExportTextProjectQuery',
  // Each call queues a new export job: a timeout must not queue three.
  startsWork: true,
  query: `query ExportTextProjectQuery($input: ExportTextProjectInput!) {
  result: exportTextProject(input: $input) {
    redirect
    queued
    fileUrl
    fileUrlExpiredAt
    exportId
  }
}`,
};

/** How the export is delivered (`GqlExportMethod`); the exporter uses FILE_STORAGE. */
export type ExportMethod =
  | 'FILE_STORAGE'
  | 'CUSTOM_WEBHOOK'
  | 'EMAIL'
  | 'DOWNLOAD_REQUEST'
  | 'EXTERNAL_FILE_STORAGE'
  | 'EXTERNAL_OBJECT_STORAGE';

/** Whose labels are exported: the reviewer's (reviewed projects) or the labelers'. */
export type ExportRole = 'LABELER' | 'REVIEWER';

export interface ExportTextProjectInput {
  readonly projectIds: readonly string[];
  readonly fileName: string;
  /** Lower-case names that depend on the project's task: `json_advanced`, `json`, `conll`, `tsv`… */
  readonly format: string;
  readonly method: ExportMethod;
  readonly role?: ExportRole;
}

export interface ExportTextProjectResult {
  readonly redirect: string | null;
  readonly queued: boolean | null;
  /** May answer 404 until the export is delivered; expires at `fileUrlExpiredAt`. */
  readonly fileUrl: string | null;
  readonly fileUrlExpiredAt: string | null;
  readonly exportId: string | null;
}

export async function exportTextProject(
  client: DatasaurClient,
  input: ExportTextProjectInput,
): Promise<ExportTextProjectResult> {
  const data = await client.request<{ result: ExportTextProjectResult }>(EXPORT_TEXT_PROJECT, {
    input,
  });
  return data.result;
}

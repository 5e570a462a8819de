/** The teams (workspaces) the credentials can see: the reconciler's default list. */
import type { DatasaurClient, GraphqlOperation } from './client.ts';

export const GET_ALL_TEAMS: GraphqlOperation = {
  operationName: 'GetAllTeams',
  query: `query GetAllTeams {
  getAllTeams {
    id
    name
  }
}`,
};

export interface DatasaurTeam {
  readonly id: string;
  readonly name: string | null;
}

export async function getAllTeams(client: DatasaurClient): Promise<DatasaurTeam[]> {
  const data = await client.request<{ getAllTeams: DatasaurTeam[] }>(GET_ALL_TEAMS, {});
  return data.getAllTeams;
}

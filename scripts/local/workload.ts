/**
 * Realistic, reproducible streams of Datasaur webhooks: project lifecycles with label events
 * and an export delivery each, built from the documented examples. The permutation and fault
 * tests and `npm run load` all draw from here.
 */
import { SEED_EVENTS } from './seed-events.ts';

export type WorkloadKind =
  | 'PROJECT_CREATED'
  | 'BEFORE_UPDATE_LABELS'
  | 'PROJECT_COMPLETED'
  | 'PROJECT_REVIEWED'
  | 'export';

export interface WorkloadEvent {
  readonly kind: WorkloadKind;
  readonly method: 'POST' | 'PUT';
  /** Compact JSON, as Datasaur sends it. */
  readonly body: string;
  /** When the event happens (its `data.timestamp`; exports have none in their body). */
  readonly time: string;
}

/** Label events a project of `npm run load` (and the worker bench) has. */
export const LOAD_LABEL_EVENTS_PER_PROJECT = 15;
/** Events of such a project: its label events, CREATED, COMPLETED, an export and REVIEWED. */
export const LOAD_EVENTS_PER_PROJECT = LOAD_LABEL_EVENTS_PER_PROJECT + 4;

export interface LifecycleOptions {
  readonly projects: number;
  /** Label events per project (each on the project's one document). @default 2 */
  readonly labelEventsPerProject?: number;
  /** Prefix of every id, so separate runs never collide in one table. @default 'p' */
  readonly idPrefix?: string;
  /** When the first event happens. @default 2024-03-01T22:00:00Z (runs past midnight) */
  readonly startAt?: Date;
  /** Teams the projects are spread over. @default 5 */
  readonly teams?: number;
}

/** mulberry32: a small seeded generator, so a failing seed can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: readonly T[], next: () => number): T[] {
  const shuffled = [...items];
  for (let index = shuffled.length - 1; index > 0; index -= 1) {
    const other = Math.floor(next() * (index + 1));
    [shuffled[index], shuffled[other]] = [shuffled[other] as T, shuffled[index] as T];
  }
  return shuffled;
}

/**
 * Per project, in time order: CREATED, the label events, COMPLETED, an export delivery and
 * REVIEWED. Every fifth project is completed and reviewed at the same instant, so the tie
 * rule decides its status.
 */
export function projectLifecycles(options: LifecycleOptions): WorkloadEvent[] {
  const labelEvents = options.labelEventsPerProject ?? 2;
  const prefix = options.idPrefix ?? 'p';
  const start = (options.startAt ?? new Date(Date.UTC(2024, 2, 1, 22))).getTime();
  const teams = options.teams ?? 5;
  const at = (minute: number) => new Date(start + minute * 60_000).toISOString();
  const seed = SEED_EVENTS;
  const events: WorkloadEvent[] = [];

  for (let project = 0; project < options.projects; project += 1) {
    const projectId = `${prefix}-project-${project}`;
    const documentId = `${prefix}-document-${project}`;
    const team = { id: `${prefix}-team-${project % teams}` };
    const first = project * (labelEvents + 5);
    const completedAt = first + labelEvents + 1;
    const reviewedAt = project % 5 === 0 ? completedAt : completedAt + 2;
    const post = (kind: WorkloadKind, minute: number, data: object): WorkloadEvent => ({
      kind,
      method: 'POST',
      body: JSON.stringify({ eventType: kind, data: { timestamp: at(minute), ...data } }),
      time: at(minute),
    });

    events.push(
      post('PROJECT_CREATED', first, {
        project: { id: projectId, name: `${projectId}.txt`, tags: ['CUSTOM'] },
        team: { ...team, name: `Team ${project % teams}` },
      }),
    );
    for (let label = 0; label < labelEvents; label += 1) {
      const { timestamp: _, ...labelData } = seed.BEFORE_UPDATE_LABELS.data;
      const [upsert] = labelData.labelUpdateList.toUpsertList;
      events.push(
        post('BEFORE_UPDATE_LABELS', first + 1 + label, {
          ...labelData,
          document: { ...labelData.document, id: documentId },
          labelUpdateList: {
            toDeleteList: [],
            toUpsertList: [
              { ...upsert, documentId, counter: label, labelSetItemId: `label-${label}` },
            ],
          },
          team,
        }),
      );
    }
    events.push(
      post('PROJECT_COMPLETED', completedAt, {
        labeler: { ...seed.PROJECT_COMPLETED.data.labeler, id: `${prefix}-labeler-${project}` },
        project: { id: projectId, name: `${projectId}.txt`, tags: ['CUSTOM'] },
        team,
      }),
      {
        kind: 'export',
        method: 'PUT',
        body: JSON.stringify({
          userId: project,
          fileUrl: `https://datasaur-exports.example/${projectId}.zip`,
          projectId,
        }),
        time: at(completedAt + 1),
      },
      post('PROJECT_REVIEWED', reviewedAt, {
        reviewer: { ...seed.PROJECT_REVIEWED.data.reviewer, id: `${prefix}-reviewer-${project}` },
        project: { id: projectId, name: `${projectId}.txt`, tags: ['CUSTOM', 'REVIEWED'] },
        team,
      }),
    );
  }
  return events;
}

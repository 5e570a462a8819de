/**
 * The example events from Datasaur's "Events" page, exactly as documented. Datasaur sends
 * them as compact JSON; `npm run send`, the tests and the benchmarks all start from these.
 */

export const SEED_EVENTS = {
  PROJECT_CREATED: {
    eventType: 'PROJECT_CREATED',
    data: {
      timestamp: '2023-11-17T09:02:45.258Z',
      project: { id: 'N2E4MjNlYTc', name: 'hamlet.TXT', tags: ['CUSTOM'] },
      team: { id: '1', name: "User's Team Workspace" },
    },
  },
  BEFORE_UPDATE_LABELS: {
    eventType: 'BEFORE_UPDATE_LABELS',
    data: {
      timestamp: '2023-11-17T09:49:54.108Z',
      document: {
        id: 'cdf0631f-66b6-4330-be05-4c87fd169afb',
        originId: '97812272-e8cd-4f92-97e3-e83de1e33db0',
        name: 'hamlet.TXT',
        fileName: 'hamlet.TXT',
        createdAt: '2023-11-17T09:48:41.000Z',
        lastSavedAt: '2023-11-17T09:48:41.048Z',
      },
      isReviewDocument: false,
      labelUpdateList: {
        toDeleteList: [],
        toUpsertList: [
          {
            documentId: 'cdf0631f-66b6-4330-be05-4c87fd169afb',
            startCellIndex: 0,
            startCellLine: 0,
            startTokenIndex: 0,
            startCharIndex: 0,
            endCellIndex: 0,
            endCellLine: 0,
            endTokenIndex: 0,
            endCharIndex: 2,
            counter: 0,
            layer: 0,
            labeledBy: 'LABELER',
            type: 'SPAN',
            labelSetItemId: 'geo',
            confidenceScore: null,
            labeledByUserId: 1,
          },
        ],
      },
      owner: { id: '1', email: 'user+1@datasaur.ai', username: '', name: '' },
      team: { id: '1' },
    },
  },
  PROJECT_COMPLETED: {
    eventType: 'PROJECT_COMPLETED',
    data: {
      timestamp: '2023-11-17T09:52:57.478Z',
      labeler: { id: '1', email: 'user+1@datasaur.ai', username: '', name: '' },
      project: { id: 'ZTYzZjRhYjE', name: 'hamlet.TXT', tags: ['CUSTOM'] },
      team: { id: '1' },
    },
  },
  PROJECT_REVIEWED: {
    eventType: 'PROJECT_REVIEWED',
    data: {
      timestamp: '2023-11-17T09:53:23.514Z',
      reviewer: { id: '1', email: 'user+1@datasaur.ai', username: '', name: '' },
      project: { id: 'ZTYzZjRhYjE', name: 'hamlet.TXT', tags: ['CUSTOM'] },
      team: { id: '1' },
    },
  },
} as const;

/** The body Datasaur PUTs when an export is delivered to a custom webhook. */
export const SEED_EXPORT_DELIVERY = {
  userId: 1,
  fileUrl: 'https://datasaur-exports.s3.amazonaws.com/export/hamlet.zip?X-Amz-Expires=3600',
  projectId: 'ZTYzZjRhYjE',
} as const;

/** Label classes the generated labels cycle through. */
const GENERATED_LABEL_CLASSES = ['geo', 'per', 'org', 'misc', 'date'];

/**
 * The `index`th label of a large save, as a labeler applying many labels at once (or
 * ML-assisted labeling) sends them: the documented label's fields, walking a document's
 * lines and tokens. About 330 bytes of compact JSON each.
 */
export function generatedLabel(documentId: string, index: number) {
  const line = Math.floor(index / 12);
  const token = (index % 12) * 3;
  return {
    documentId,
    startCellIndex: line,
    startCellLine: 0,
    startTokenIndex: token,
    startCharIndex: 0,
    endCellIndex: line,
    endCellLine: 0,
    endTokenIndex: token + 1,
    endCharIndex: 3 + (index % 7),
    counter: index,
    layer: 0,
    labeledBy: 'LABELER',
    type: 'SPAN',
    labelSetItemId: GENERATED_LABEL_CLASSES[index % GENERATED_LABEL_CLASSES.length],
    confidenceScore: null,
    labeledByUserId: 1,
  };
}

export type SeedEventType = keyof typeof SEED_EVENTS;
export const SEED_EVENT_TYPES = Object.keys(SEED_EVENTS) as SeedEventType[];

/** Datasaur's published signature test vector. */
export const SIGNATURE_TEST_VECTOR = {
  secret: 'secret',
  body: '{"body":"sample"}',
  signature: '0278b1a603de4c561ac0feb960354d0d00e8846b74813d81bddb43ad45bff767',
} as const;

/**
 * For tools that only ever send seed-sized events (the benchmarks): bodies that small always
 * travel inline, so a call here means the tool sent something it was not built for.
 */
import type { BodyReader, BodyWriter } from '../../shared/webhook/claim-check.ts';
import { INLINE_BODY_BYTES } from '../../shared/webhook/claim-check.ts';

const refuse = async (): Promise<never> => {
  throw new Error(
    `this tool has no archive bucket: it sends only bodies of ${INLINE_BODY_BYTES} bytes or less`,
  );
};

export const NO_ARCHIVE: BodyWriter & BodyReader = { put: refuse, get: refuse };

/**
 * The claim check: a body too large for the queue is kept in the archive bucket and the
 * message carries a pointer to it. Keys and the pointer format live here, free of AWS types.
 */

/** Where large webhook bodies live in the archive bucket. */
export const BODIES_PREFIX = 'bodies/';

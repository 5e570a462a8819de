/**
 * zod/mini with zod's English messages, for the schemas the Lambda functions parse on their
 * hot path (the webhook events, the queued envelope, the bus details, the export request):
 * import it as `import * as z from '../runtime/schema.ts'`. zod/mini builds the same schemas
 * as classic zod without giving every schema instance its dozens of methods, and bundles
 * only what is used: building the webhook event schemas and parsing one event took 2.4 times
 * the CPU with classic zod (docs/performance.md). Classic zod sets the English messages
 * itself; mini leaves them out, and the rejection reasons the table keeps must read the same.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
export { $ZodError as SchemaError } from 'zod/v4/core';
export { builtOnFirstUse } from './first-use.ts';

/** `node:fs/promises` as the Lambda bundles import it: see `index.ts` beside this file. */
import { createRequire } from 'node:module';

const fsPromises: typeof import('node:fs/promises') = createRequire(import.meta.url)(
  'node:fs/promises',
);

export default fsPromises;
export const { readFile } = fsPromises;

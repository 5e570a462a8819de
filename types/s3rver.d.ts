// s3rver ships no type declarations; this covers the part the local stack uses.
declare module 's3rver' {
  import type { Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    /** 0 picks a free port. */
    port?: number;
    /** Suppresses its request log on stdout. */
    silent?: boolean;
    /** Folder holding buckets and objects. */
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    /** What `run()` listens with: the server `server.listen` returned given a callback, else a promise of it. */
    listen(
      port: number,
      address: string,
      options: object,
      callback?: () => void,
    ): Server | Promise<Server>;
    close(): Promise<void>;
    /** The HTTP server, once `run` has resolved. */
    httpServer?: Server;
  }
}

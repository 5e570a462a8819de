/**
 * The archive bucket: everything the product keeps outside the table (large webhook bodies
 * under `bodies/`, export archives later), one prefix per capability. Grants are per prefix
 * and per action, so each function reaches only its own part of the bucket.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type LifecycleRule,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ArchiveBucketProps {
  /**
   * Days after which objects under each prefix expire, e.g. `{ 'bodies/': 365 }`. A prefix
   * not listed is kept until someone deletes it.
   * @default every object is kept
   */
  readonly retentionDaysByPrefix?: Readonly<Record<string, number>>;
  /**
   * Days the server access logs are kept.
   * @default 90
   */
  readonly accessLogRetentionDays?: number;
}

export interface PrefixGrantOptions {
  /**
   * Also allow `s3:AbortMultipartUpload`, for writers that upload in parts
   * (`@aws-sdk/lib-storage` aborts a failed upload). Parts and completion need only PutObject.
   * @default false
   */
  readonly multipart?: boolean;
}

/** Incomplete multipart uploads are invisible and billed: abort them after a day. */
const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(1);

/**
 * Both buckets are versioned, so an object deleted or overwritten by mistake (or by a stolen
 * credential) can be restored for this long; then the old version expires, and so do the
 * delete markers left alone once it has.
 */
export const NONCURRENT_VERSION_DAYS = 30;
const EXPIRE_OLD_VERSIONS: LifecycleRule = {
  noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
  expiredObjectDeleteMarker: true,
};

export class ArchiveBucket extends Construct {
  public readonly bucket: Bucket;
  /** Server access logs of `bucket` (S3 requires SSE-S3 on a log destination). */
  public readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps = {}) {
    super(scope, id);
    // Log delivery through a bucket policy (AWS's advice) instead of the legacy ACL, which
    // object ownership "bucket owner enforced" disables. Set here so it holds in any app.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const retention = props.retentionDaysByPrefix ?? {};
    for (const [prefix, days] of Object.entries(retention)) {
      if (!prefix.endsWith('/')) throw new Error(`prefix "${prefix}" must end with "/"`);
      if (!Number.isInteger(days) || days < 1) {
        throw new Error(`retention of "${prefix}" must be a whole number of days, got ${days}`);
      }
    }

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        { expiration: Duration.days(props.accessLogRetentionDays ?? 90) },
        { abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER },
        EXPIRE_OLD_VERSIONS,
      ],
      // Like the archive itself: who read a body stays answerable after the stack is gone.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "This bucket is the destination of the archive bucket's server access logs; logging it to itself would log every log delivery.",
    });

    const lifecycleRules: LifecycleRule[] = [
      { abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER },
      EXPIRE_OLD_VERSIONS,
      ...Object.entries(retention).map(([prefix, days]) => ({
        prefix,
        expiration: Duration.days(days),
      })),
    ];
    this.bucket = new Bucket(this, 'Bucket', {
      // SSE-S3: encrypted at rest with no key policy to keep in step with each function and
      // no KMS request per object (the same choice as the queue and the table).
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Keys are content-addressed (an event id is the body's sha256) and never rewritten with
      // other content, so versions cost storage only when something deletes or overwrites.
      versioned: true,
      lifecycleRules,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'archive/',
      // The archive is part of the record, like the table: it outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** Allows `grantee` to write objects under `prefix` (e.g. `bodies/`) and nowhere else. */
  grantPut(grantee: IGrantable, prefix: string, options: PrefixGrantOptions = {}): void {
    const actions = ['s3:PutObject', ...(options.multipart ? ['s3:AbortMultipartUpload'] : [])];
    this.grantUnderPrefix(grantee, prefix, actions);
  }

  /** Allows `grantee` to read objects under `prefix` and nowhere else (no listing). */
  grantRead(grantee: IGrantable, prefix: string): void {
    this.grantUnderPrefix(grantee, prefix, ['s3:GetObject']);
  }

  private grantUnderPrefix(grantee: IGrantable, prefix: string, actions: string[]): void {
    if (!prefix.endsWith('/') || prefix.startsWith('/')) {
      throw new Error(`prefix "${prefix}" must be a folder such as "bodies/"`);
    }
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new PolicyStatement({ actions, resources: [this.bucket.arnForObjects(`${prefix}*`)] }),
    );
    // The wildcard is the prefix itself: keys under it are only known at run time.
    if (Construct.isConstruct(principal)) {
      const stack = Stack.of(this);
      const bucketId = stack.resolve(
        stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket),
      );
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
        reason: `Object keys under ${prefix} are created at run time (one per event or archive); the grant is limited to that prefix and to ${actions.join(', ')}.`,
      });
    }
  }
}

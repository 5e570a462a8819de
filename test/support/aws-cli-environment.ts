/**
 * The whole environment the AWS CLI (and boto3) snippets of the docs run with in tests: the
 * local servers' credentials and region, nothing of the caller's own AWS configuration, no pager.
 */
export const AWS_CLI_ENVIRONMENT = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_PAGER: '',
} as const;

/**
 * `cdk synth` / `cdk deploy` entry point. The stack is environment-agnostic (no account or
 * region at synth time), so synthesis needs no credentials and no network.
 */
import { App } from 'aws-cdk-lib';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import { addWebhookStack } from './stack.ts';

const app = new App();
try {
  addWebhookStack(app);
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
app.synth();

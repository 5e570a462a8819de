/** The one path rule shared by the CDK routes, the local server, the ingest and the logs. */
import { describe, expect, it } from 'vitest';
import {
  isWebhookPath,
  matchesWebhookRoute,
  redactWebhookPath,
  redactWebhookUrl,
  webhookPath,
  webhookRouteKeys,
  webhookUrl,
} from '../shared/webhook/route.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const TOKEN = TEST_SECRETS.pathToken;

describe('the webhook route', () => {
  it('puts the token after /webhooks/datasaur/ and routes POST and PUT only', () => {
    expect(webhookPath(TOKEN)).toBe(`/webhooks/datasaur/${TOKEN}`);
    expect(webhookRouteKeys(TOKEN)).toEqual([
      `POST /webhooks/datasaur/${TOKEN}`,
      `PUT /webhooks/datasaur/${TOKEN}`,
    ]);
  });

  it('refuses a token too short, too long or with characters a route key would need escaped', () => {
    for (const token of [
      'short',
      'x'.repeat(129),
      'has/a/slash-in-it-0000',
      'has space 0000000000000',
    ]) {
      expect(() => webhookPath(token)).toThrow(/must match/);
    }
  });

  it('joins the API endpoint and the path whatever trailing slash the endpoint has', () => {
    expect(webhookUrl('https://abc.execute-api.eu-west-1.amazonaws.com/', TOKEN)).toBe(
      `https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/datasaur/${TOKEN}`,
    );
  });

  it('matches a request exactly as API Gateway matches route keys', () => {
    expect(matchesWebhookRoute('post', webhookPath(TOKEN), [TOKEN])).toBe(true);
    expect(matchesWebhookRoute('PUT', webhookPath(TOKEN), [TOKEN])).toBe(true);
    expect(matchesWebhookRoute('GET', webhookPath(TOKEN), [TOKEN])).toBe(false);
    expect(matchesWebhookRoute('POST', `${webhookPath(TOKEN)}/`, [TOKEN])).toBe(false);
    expect(matchesWebhookRoute('POST', webhookPath(TOKEN).toUpperCase(), [TOKEN])).toBe(false);
    expect(matchesWebhookRoute('POST', '/webhooks/datasaur', [TOKEN])).toBe(false);
    expect(matchesWebhookRoute('POST', webhookPath(TOKEN), [])).toBe(false);
  });

  it('lets the ingest check the shape of the path without knowing the token', () => {
    expect(isWebhookPath(webhookPath(TOKEN))).toBe(true);
    expect(isWebhookPath('/webhooks/datasaur')).toBe(false);
    expect(isWebhookPath('/webhooks/datasaur/')).toBe(false);
    expect(isWebhookPath(`${webhookPath(TOKEN)}/more`)).toBe(false);
  });

  it('logs the path with the token replaced', () => {
    expect(redactWebhookPath(webhookPath(TOKEN))).toBe('/webhooks/datasaur/{token}');
    expect(redactWebhookPath('/other')).toBe('/other');
  });

  it('shows a webhook URL with the token replaced, keeping where it points', () => {
    expect(
      redactWebhookUrl(webhookUrl('https://abc.execute-api.eu-west-1.amazonaws.com', TOKEN)),
    ).toBe('https://abc.execute-api.eu-west-1.amazonaws.com/webhooks/datasaur/{token}');
    expect(redactWebhookUrl(webhookUrl('http://127.0.0.1:3000', TOKEN))).toBe(
      'http://127.0.0.1:3000/webhooks/datasaur/{token}',
    );
  });
});

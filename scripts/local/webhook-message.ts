/** A webhook body as the worker interprets it, built directly (tests, the console's measurement). */
import { type InterpretedMessage, interpretBody } from '../../shared/webhook/interpret.ts';
import { eventIdOf } from '../../shared/webhook/signature.ts';

/** What the worker makes of `body` received as a webhook (a POST by default) at `receivedAt`. */
export function webhookMessage(
  body: string | Buffer,
  receivedAt: string,
  method: 'POST' | 'PUT' = 'POST',
): InterpretedMessage {
  const rawBody = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return {
    eventId: eventIdOf(rawBody),
    receivedAt,
    rawBody,
    interpretation: interpretBody(method, rawBody, receivedAt),
    provenance: 'webhook',
    method,
  };
}

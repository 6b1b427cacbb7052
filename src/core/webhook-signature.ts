import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-fleetgate-signature';
export const EVENT_ID_HEADER = 'x-fleetgate-event-id';
export const EVENT_TYPE_HEADER = 'x-fleetgate-event-type';
export const TIMESTAMP_HEADER = 'x-fleetgate-timestamp';
export const WEBHOOK_ID_HEADER = 'x-fleetgate-webhook-id';
export const ATTEMPT_HEADER = 'x-fleetgate-attempt';

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes under the webhook's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** What a receiver does, in constant time: recompute the signature over the raw body and compare. */
export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface DeliveryHeaderInput {
  webhookId: string;
  eventId: string;
  eventType: string;
  /** 1 for the first attempt. */
  attempt: number;
  secret: string;
  body: string;
  /** When this attempt is sent, ms since the epoch. */
  sentAtMs: number;
}

export function deliveryHeaders(input: DeliveryHeaderInput): Record<string, string> {
  return {
    'content-type': 'application/json',
    [SIGNATURE_HEADER]: signBody(input.secret, input.body),
    [EVENT_ID_HEADER]: input.eventId,
    [EVENT_TYPE_HEADER]: input.eventType,
    [TIMESTAMP_HEADER]: String(Math.floor(input.sentAtMs / 1000)),
    [WEBHOOK_ID_HEADER]: input.webhookId,
    [ATTEMPT_HEADER]: String(input.attempt),
  };
}

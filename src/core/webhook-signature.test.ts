import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deliveryHeaders, signBody, verifySignature } from './webhook-signature.js';

describe('webhook signatures', () => {
  it('are the HMAC-SHA256 of the exact body under the secret, as sha256=<hex>', () => {
    // The published test vector of HMAC-SHA256 (key "key").
    expect(signBody('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('sign the UTF-8 bytes of the body, so non-ASCII payloads verify with any HMAC library', () => {
    const body = '{"identity":"capteur-é","payload":[{"values":{"t":"20 °C"}}]}';
    const expected = createHmac('sha256', 'secret-0123456789')
      .update(Buffer.from(body, 'utf8'))
      .digest('hex');
    expect(signBody('secret-0123456789', body)).toBe(`sha256=${expected}`);
  });

  it('verify only the body and secret they were made from', () => {
    const body = '{"type":"deleted","identity":"a"}';
    const signature = signBody('secret-0123456789', body);
    expect(verifySignature('secret-0123456789', body, signature)).toBe(true);
    expect(verifySignature('secret-0123456789', `${body} `, signature)).toBe(false);
    expect(verifySignature('another-secret-000', body, signature)).toBe(false);
    expect(verifySignature('secret-0123456789', body, undefined)).toBe(false);
    expect(verifySignature('secret-0123456789', body, 'sha256=00')).toBe(false);
  });

  it('come with the event id, type, webhook, attempt and a Unix-seconds timestamp header', () => {
    const headers = deliveryHeaders({
      webhookId: 'w1',
      eventId: 'e1',
      eventType: 'data_in',
      attempt: 3,
      secret: 'secret-0123456789',
      body: '{}',
      sentAtMs: 1_700_000_000_999,
    });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-fleetgate-signature': signBody('secret-0123456789', '{}'),
      'x-fleetgate-event-id': 'e1',
      'x-fleetgate-event-type': 'data_in',
      'x-fleetgate-timestamp': '1700000000',
      'x-fleetgate-webhook-id': 'w1',
      'x-fleetgate-attempt': '3',
    });
  });
});

import { describe, expect, it } from 'vitest';
import { classifyStatus, retryAfterMs } from '../../functions/relay/core/delivery/classify-response';

const NOW = Date.parse('2024-03-12T19:00:00Z');

describe('classifyStatus', () => {
  it.each([200, 201, 202, 204, 299])('counts %i as delivered', (status) => {
    expect(classifyStatus(status)).toBe('delivered');
  });

  it('singles out 401 as an expired or revoked token', () => {
    expect(classifyStatus(401)).toBe('unauthorized');
  });

  it.each([408, 425, 429])('retries %i, a 4xx that says "not now" rather than "never"', (status) => {
    expect(classifyStatus(status)).toBe('transient');
  });

  it.each([500, 502, 503, 504, 599])('retries the server error %i', (status) => {
    expect(classifyStatus(status)).toBe('transient');
  });

  it.each([400, 403, 404, 405, 409, 410, 413, 415, 422, 499])(
    'rejects %i for good: the same message would be refused again',
    (status) => {
      expect(classifyStatus(status)).toBe('permanent');
    },
  );

  it.each([100, 199, 301, 304, 399])('treats the odd answer %i as a hiccup worth retrying', (status) => {
    expect(classifyStatus(status)).toBe('transient');
  });
});

describe('retryAfterMs', () => {
  it('is undefined when the header is absent', () => {
    expect(retryAfterMs(undefined, NOW)).toBeUndefined();
  });

  it('reads delta-seconds as milliseconds', () => {
    expect(retryAfterMs('120', NOW)).toBe(120_000);
  });

  it('reads zero seconds as "retry now"', () => {
    expect(retryAfterMs('0', NOW)).toBe(0);
  });

  it('tolerates whitespace around delta-seconds', () => {
    expect(retryAfterMs(' 3 ', NOW)).toBe(3_000);
  });

  it('reads an HTTP date as the time left until then', () => {
    // Prepare
    const header = new Date(NOW + 90_000).toUTCString();

    // Act
    const ms = retryAfterMs(header, NOW);

    // Assess
    expect(ms).toBe(90_000);
  });

  it('reads an IMF-fixdate exactly as RFC 9110 spells it', () => {
    expect(retryAfterMs('Tue, 12 Mar 2024 19:00:30 GMT', NOW)).toBe(30_000);
  });

  it('reads an HTTP date in the past as no wait at all', () => {
    expect(retryAfterMs('Tue, 12 Mar 2024 18:59:00 GMT', NOW)).toBe(0);
  });

  it.each(['', 'soon', '120s', '2 minutes', 'PT5M'])('ignores the unreadable value %j', (header) => {
    expect(retryAfterMs(header, NOW)).toBeUndefined();
  });
});

import { createHmac } from 'node:crypto';
import type { SampleSigner } from './types';

/** Zoom: `x-zm-signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">` keyed with the app's secret token. */
export const zoomSigner: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-secret-token`,
  sampleBody: () =>
    JSON.stringify({
      event: 'meeting.started',
      event_ts: Date.now(),
      payload: { object: { id: '85746065432', topic: 'Incident bridge' } },
    }),
  sign: (body, secret, _declaration, nowMs) => {
    const timestamp = String(Math.floor(nowMs / 1000));
    const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
    return {
      'content-type': 'application/json',
      'x-zm-request-timestamp': timestamp,
      'x-zm-signature': `v0=${digest}`,
    };
  },
};

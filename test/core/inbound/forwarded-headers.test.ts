import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FORWARDED_HEADERS,
  forwardedHeaders,
  neverForwardedReason,
} from '../../../functions/relay/core/inbound/forwarded-headers';
import type { SchemeName, SourceDeclaration } from '../../../functions/relay/core/inbound/source-declaration';

/** Headers as API Gateway delivers a GitHub webhook: lower case, signature and proxy headers included. */
const GITHUB_HEADERS = {
  'content-type': 'application/json',
  'user-agent': 'GitHub-Hookshot/044aadd',
  'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  'x-github-event': 'issues',
  'x-github-hook-id': '292430182',
  'x-github-hook-installation-target-id': '79929171',
  'x-github-hook-installation-target-type': 'repository',
  'x-hub-signature-256': 'sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c',
  'x-forwarded-for': '140.82.115.1',
  'x-amzn-trace-id': 'Root=1-65f0a9fe-3b2e1f4a6c7d8e9f0a1b2c3d',
};

describe('forwardedHeaders', () => {
  it("forwards GitHub's event metadata by default, lower-cased, and nothing else", () => {
    // Act
    const headers = forwardedHeaders({ headers: GITHUB_HEADERS }, { scheme: 'github' });

    // Assess
    expect(headers).toEqual({
      'x-github-event': 'issues',
      'x-github-hook-id': '292430182',
      'x-github-hook-installation-target-type': 'repository',
      'x-github-hook-installation-target-id': '79929171',
    });
  });

  it("forwards GitLab's event headers for the token scheme, never the token", () => {
    // Prepare
    const request = {
      headers: {
        'x-gitlab-event': 'Merge Request Hook',
        'x-gitlab-instance': 'https://gitlab.com',
        'x-gitlab-webhook-uuid': '5a0c7d6e-24f6-4f5e-9d0c-1b2a3c4d5e6f',
        'x-gitlab-event-uuid': 'b2a3c4d5-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
        'x-gitlab-token': 'secret-token',
      },
    };

    // Act
    const headers = forwardedHeaders(request, { scheme: 'token', header: 'X-Gitlab-Token' });

    // Assess
    expect(headers).toEqual({
      'x-gitlab-event': 'Merge Request Hook',
      'x-gitlab-instance': 'https://gitlab.com',
      'x-gitlab-webhook-uuid': '5a0c7d6e-24f6-4f5e-9d0c-1b2a3c4d5e6f',
      'x-gitlab-event-uuid': 'b2a3c4d5-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
    });
  });

  it('adds the declared headers after the defaults, once each, and skips those absent', () => {
    // Prepare
    const declaration: SourceDeclaration = {
      scheme: 'github',
      forwardHeaders: ['User-Agent', 'X-GitHub-Event', 'X-GitHub-Enterprise-Host'],
    };

    // Act
    const headers = forwardedHeaders({ headers: GITHUB_HEADERS }, declaration);

    // Assess
    expect(Object.keys(headers)).toEqual([
      'x-github-event',
      'x-github-hook-id',
      'x-github-hook-installation-target-type',
      'x-github-hook-installation-target-id',
      'user-agent',
    ]);
    expect(headers['user-agent']).toBe('GitHub-Hookshot/044aadd');
  });

  it('finds headers whatever the case they arrive in, and joins a repeated one', () => {
    // Act
    const headers = forwardedHeaders(
      { headers: { 'X-PagerDuty-Signature': 'v1=abc', 'X-Webhook-Id': 'a', 'x-webhook-id': 'b' } },
      { scheme: 'pagerduty' },
    );

    // Assess
    expect(headers).toEqual({ 'x-webhook-id': 'a, b' });
  });

  it('drops a header that may never be forwarded, even when a declaration slipped past validation', () => {
    // Act
    const headers = forwardedHeaders(
      { headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-itsm-event': 'incident.created' } },
      { scheme: 'basic', forwardHeaders: ['Authorization', 'X-Itsm-Event'] },
    );

    // Assess
    expect(headers).toEqual({ 'x-itsm-event': 'incident.created' });
  });

  it('returns a plain object that cannot be polluted through a header name', () => {
    // Act
    const headers = forwardedHeaders(
      { headers: { constructor: 'c', 'x-a': 'a' } },
      { scheme: 'unauthenticated', forwardHeaders: ['constructor', 'X-A'] },
    );

    // Assess
    expect(headers).toEqual({ constructor: 'c', 'x-a': 'a' });
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });

  it.each(Object.keys(DEFAULT_FORWARDED_HEADERS) as SchemeName[])(
    'never lists a header it would refuse among the %s defaults',
    (scheme) => {
      // Act / Assess
      for (const name of DEFAULT_FORWARDED_HEADERS[scheme]) {
        expect(neverForwardedReason(name.toLowerCase(), undefined), name).toBeUndefined();
      }
    },
  );
});

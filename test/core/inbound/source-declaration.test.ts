import { describe, expect, it } from 'vitest';
import {
  parseSourceDeclarations,
  type SourceDeclarations,
} from '../../../functions/relay/core/inbound/source-declaration';

function errorOf(sources: unknown): string {
  try {
    parseSourceDeclarations(sources);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the declarations were accepted');
}

describe('parseSourceDeclarations', () => {
  it('accepts every scheme with its options, and the fields every source may declare', () => {
    // Prepare
    const sources: SourceDeclarations = {
      slack: { scheme: 'slack', toleranceSeconds: 300 },
      zoom: { scheme: 'zoom', toleranceSeconds: 120 },
      zendesk: { scheme: 'zendesk' },
      pagerduty: { scheme: 'pagerduty' },
      gitlab: { scheme: 'token', header: 'X-Gitlab-Token', idHeader: 'Idempotency-Key' },
      legacy: { scheme: 'token', query: 'token' },
      okta: { scheme: 'token', header: 'Authorization', oktaVerification: true },
      teams: { scheme: 'msteams' },
      graph: { scheme: 'msgraph' },
      github: {
        scheme: 'github',
        forwardHeaders: ['X-GitHub-Enterprise-Host'],
        forwardQuery: false,
        envelope: true,
        oneioEndpoint: 'itsm',
      },
    };

    // Act
    const parsed = parseSourceDeclarations(JSON.parse(JSON.stringify(sources)));

    // Assess
    expect(parsed).toEqual(sources);
  });

  it.each([
    [
      'a field of another scheme',
      { gh: { scheme: 'github', toleranceSeconds: 300 } },
      'sources.gh.toleranceSeconds is not a field of the github scheme',
    ],
    [
      'a misspelt field',
      { gh: { scheme: 'github', forwardHeader: ['X-A'] } },
      'sources.gh.forwardHeader is not a field',
    ],
    [
      'a token scheme with neither header nor query',
      { gl: { scheme: 'token' } },
      'sources.gl.header or query must be set, not both',
    ],
    [
      'a token scheme with both header and query',
      { gl: { scheme: 'token', header: 'X-Gitlab-Token', query: 'token' } },
      'sources.gl.header or query must be set, not both',
    ],
    [
      'a token header that is not a header name',
      { gl: { scheme: 'token', header: 'X Gitlab Token' } },
      'sources.gl.header must be an HTTP header name',
    ],
    [
      'a token query parameter that needs encoding',
      { gl: { scheme: 'token', query: 'the token' } },
      'sources.gl.query must be a query parameter name',
    ],
    [
      'an idHeader that is not a header name',
      { gl: { scheme: 'token', header: 'X-Gitlab-Token', idHeader: '' } },
      'sources.gl.idHeader must be an HTTP header name',
    ],
    [
      'a tolerance beyond an hour',
      { slack: { scheme: 'slack', toleranceSeconds: 7200 } },
      'sources.slack.toleranceSeconds must be an integer between 1 and 3600',
    ],
    [
      'oktaVerification on a signed scheme',
      { okta: { scheme: 'github', oktaVerification: true } },
      'sources.okta.oktaVerification needs the token or basic scheme',
    ],
    [
      'oktaVerification that is not a boolean',
      { okta: { scheme: 'token', header: 'Authorization', oktaVerification: 'yes' } },
      'sources.okta.oktaVerification must be true or false',
    ],
    [
      'forwardQuery that is not a boolean',
      { gh: { scheme: 'github', forwardQuery: 'no' } },
      'sources.gh.forwardQuery must be true or false',
    ],
    [
      'envelope that is not a boolean',
      { gh: { scheme: 'github', envelope: 1 } },
      'sources.gh.envelope must be true or false',
    ],
    [
      'an endpoint name in capitals',
      { gh: { scheme: 'github', oneioEndpoint: 'ITSM' } },
      'sources.gh.oneioEndpoint must be an endpoint name matching',
    ],
    [
      'an endpoint name that is not a string',
      { gh: { scheme: 'github', oneioEndpoint: 7 } },
      'sources.gh.oneioEndpoint must be an endpoint name matching',
    ],
  ])('refuses %s, naming the source and the field', (_case, sources, message) => {
    // Act / Assess
    expect(errorOf(sources)).toContain(message);
  });

  describe('forwardHeaders', () => {
    it.each([
      ['Authorization', 'a credential or signature header'],
      ['Proxy-Authorization', 'a credential or signature header'],
      ['Cookie', 'a credential or signature header'],
      ['X-Hub-Signature-256', 'a credential or signature header'],
      ['Stripe-Signature', 'a credential or signature header'],
      ['X-Slack-Signature', 'a credential or signature header'],
      ['X-Zendesk-Webhook-Signature', 'a credential or signature header'],
      ['X-Gitlab-Token', 'a credential or signature header'],
      ['X-Api-Key', 'a credential or signature header'],
      ['Connection', 'a hop-by-hop header'],
      ['Transfer-Encoding', 'a hop-by-hop header'],
      ['Upgrade', 'a hop-by-hop header'],
      ['X-Forwarded-For', 'a proxy header'],
      ['Forwarded', 'a proxy header'],
      ['Via', 'a proxy header'],
      ['X-Amzn-Trace-Id', 'a proxy header'],
      ['Host', 'the relay sets it itself'],
      ['Content-Length', 'the relay sets it itself'],
      ['X-Relay-Message-Id', 'the relay’s own metadata'],
    ])('refuses %s, whatever the scheme', (header, reason) => {
      // Act
      const onGithub = errorOf({ gh: { scheme: 'github', forwardHeaders: ['X-GitHub-Event', header] } });
      const onBasic = errorOf({ itsm: { scheme: 'basic', forwardHeaders: [header.toLowerCase()] } });

      // Assess
      expect(onGithub).toBe(`sources.gh.forwardHeaders must not name ${header}: ${reason}, never relayed`);
      expect(onBasic).toContain(
        `sources.itsm.forwardHeaders must not name ${header.toLowerCase()}: ${reason}`,
      );
    });

    it.each([
      ['hmac-sha256', { scheme: 'hmac-sha256', header: 'X-Jira-Hmac', encoding: 'hex' }, 'X-Jira-Hmac'],
      ['token', { scheme: 'token', header: 'X-Shared-Key' }, 'x-shared-key'],
    ])("refuses the %s source's own secret header, whatever it is called", (_scheme, declaration, header) => {
      // Act / Assess
      expect(errorOf({ src: { ...declaration, forwardHeaders: [header] } })).toContain(
        `must not name ${header}: it carries the source’s secret`,
      );
    });

    it.each([
      ['a list of something else', [42], 'must hold HTTP header names (got 42)'],
      ['a name with a space', ['X Event'], 'must hold HTTP header names'],
      ['the same name twice in two spellings', ['X-Event', 'x-event'], 'names x-event twice'],
      [
        'more than 20 names',
        Array.from({ length: 21 }, (_, i) => `X-H${i}`),
        'must be a list of at most 20 header names',
      ],
      ['a string instead of a list', 'X-Event', 'must be a list of at most 20 header names'],
    ])('refuses %s', (_case, forwardHeaders, message) => {
      // Act / Assess
      expect(errorOf({ gh: { scheme: 'github', forwardHeaders } })).toContain(
        `sources.gh.forwardHeaders ${message}`,
      );
    });
  });
});

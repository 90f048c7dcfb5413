import { describe, expect, it } from 'vitest';
import { EndpointTokens } from '../../functions/relay/core/token/endpoint-tokens';
import { FakeTokenSource } from '../unit/fakes';

describe('EndpointTokens', () => {
  it('makes one token source per ONEiO endpoint on first use and keeps it', () => {
    // Prepare
    const made: (string | undefined)[] = [];
    const tokens = new EndpointTokens((endpoint) => {
      made.push(endpoint);
      return new FakeTokenSource();
    });

    // Act
    const itsm = tokens.forEndpoint('itsm');
    const fallback = tokens.forEndpoint(undefined);
    const again = [tokens.forEndpoint('itsm'), tokens.forEndpoint(undefined), tokens.forEndpoint('hr')];

    // Assess
    expect(made).toEqual(['itsm', undefined, 'hr']);
    expect(again[0]).toBe(itsm);
    expect(again[1]).toBe(fallback);
    expect(itsm).not.toBe(fallback);
    expect(again[2]).not.toBe(itsm);
  });

  it('makes nothing for an endpoint no message names', () => {
    // Prepare
    let made = 0;

    // Act
    new EndpointTokens(() => {
      made++;
      return new FakeTokenSource();
    });

    // Assess
    expect(made).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { forwardedQuery } from '../../../functions/relay/core/inbound/forwarded-query';

describe('forwardedQuery', () => {
  it('passes the query on by default, order and encoding exactly as received', () => {
    // Act
    const query = forwardedQuery(
      { query: 'issue.key=ABC-1&project.key=OPS&note=a%20b+c&flag' },
      { scheme: 'github' },
    );

    // Assess
    expect(query).toBe('issue.key=ABC-1&project.key=OPS&note=a%20b+c&flag');
  });

  it('passes nothing on when the source says forwardQuery: false', () => {
    // Act / Assess
    expect(forwardedQuery({ query: 'issue.key=ABC-1' }, { scheme: 'github', forwardQuery: false })).toBe('');
  });

  it('is empty without a query', () => {
    // Act / Assess
    expect(forwardedQuery({ query: '' }, { scheme: 'github' })).toBe('');
    expect(forwardedQuery({}, { scheme: 'github' })).toBe('');
  });

  it.each([
    ['plain', 'project=OPS&token=s3cret&x=1', 'project=OPS&x=1'],
    ['percent-encoded', 'project=OPS&to%6Ben=s3cret', 'project=OPS'],
    ['in capitals', 'TOKEN=s3cret&project=OPS', 'project=OPS'],
    ['repeated', 'token=a&project=OPS&token=b', 'project=OPS'],
    ['without a value', 'token&project=OPS', 'project=OPS'],
  ])("drops the token scheme's own parameter, %s", (_case, query, expected) => {
    // Act / Assess
    expect(forwardedQuery({ query }, { scheme: 'token', query: 'token' })).toBe(expected);
  });

  it('keeps a parameter named like a token when the token travels in a header', () => {
    // Act / Assess
    expect(forwardedQuery({ query: 'token=public-id' }, { scheme: 'token', header: 'X-Gitlab-Token' })).toBe(
      'token=public-id',
    );
  });

  it("drops Graph's validationToken", () => {
    // Act / Assess
    expect(forwardedQuery({ query: 'tenant=ops&validationToken=abc' }, { scheme: 'msgraph' })).toBe(
      'tenant=ops',
    );
  });

  it('drops empty pieces left by doubled separators', () => {
    // Act / Assess
    expect(forwardedQuery({ query: 'a=1&&b=2&' }, { scheme: 'github' })).toBe('a=1&b=2');
  });

  it('keeps a parameter whose name is not valid percent-encoding as it came', () => {
    // Act / Assess
    expect(forwardedQuery({ query: 'a%ZZ=1&token=s' }, { scheme: 'token', query: 'token' })).toBe('a%ZZ=1');
  });
});

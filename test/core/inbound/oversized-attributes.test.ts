import { describe, expect, it } from 'vitest';
import {
  MAX_REPORTED_PATHS,
  ONEIO_ATTRIBUTE_LIMIT,
  oversizedAttributes,
} from '../../../functions/relay/core/inbound/oversized-attributes';

function check(value: unknown, limit?: number): readonly string[] {
  const json = JSON.stringify(value);
  return oversizedAttributes(json, JSON.parse(json), limit);
}

describe('oversizedAttributes', () => {
  it("uses ONEiO's limit of 300,000 characters", () => {
    // Act / Assess
    expect(ONEIO_ATTRIBUTE_LIMIT).toBe(300_000);
    expect(check({ a: 'x'.repeat(300_000) })).toEqual([]);
    expect(check({ a: 'x'.repeat(300_001) })).toEqual(['$.a']);
  });

  it('names nested paths, array indexes and keys that are not identifiers, in document order', () => {
    // Prepare
    const long = 'x'.repeat(11);
    const body = {
      issue: { fields: { description: long, summary: 'short' } },
      comments: [{ body: 'ok' }, { body: long }],
      'custom field': long,
      'a"b': long,
    };

    // Act
    const paths = check(body, 10);

    // Assess
    expect(paths).toEqual([
      '$.issue.fields.description',
      '$.comments[1].body',
      '$["custom field"]',
      '$["a\\"b"]',
    ]);
  });

  it('reports a top-level array element', () => {
    // Act / Assess
    expect(check(['ok', 'x'.repeat(11)], 10)).toEqual(['$[1]']);
  });

  it('counts characters as ONEiO (Java) does: UTF-16 code units', () => {
    // Prepare: 6 emoji are 6 code points but 12 code units.
    const value = '😀'.repeat(6);

    // Act / Assess
    expect(check({ a: value }, 11)).toEqual(['$.a']);
    expect(check({ a: value }, 12)).toEqual([]);
  });

  it('reports at most ten paths', () => {
    // Prepare
    const body = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`f${i}`, 'x'.repeat(11)]));

    // Act
    const paths = check(body, 10);

    // Assess
    expect(paths).toHaveLength(MAX_REPORTED_PATHS);
    expect(paths[0]).toBe('$.f0');
  });

  it('cuts a very long key in the path, never printing a value', () => {
    // Prepare
    const key = `k${'e'.repeat(100)}`;

    // Act
    const [path] = check({ [key]: 'SECRET-VALUE-xxxxxxxxx' }, 10);

    // Assess
    expect(path).toBe(`$["${key.slice(0, 64)}…"]`);
    expect(path).not.toContain('SECRET-VALUE');
  });

  it('does not walk a body too short to hold an oversized value', () => {
    // Prepare: a parsed value the text could not have produced; only a walk would find it.
    const parsed = { a: 'x'.repeat(50) };

    // Act / Assess
    expect(oversizedAttributes('{"a":"x"}', parsed, 10)).toEqual([]);
    expect(oversizedAttributes(`{"a":"${'x'.repeat(10)}"}`, parsed, 10)).toEqual(['$.a']);
  });

  it('walks nesting deeper than the call stack allows without overflowing it', () => {
    // Prepare
    const depth = 100_000;
    const json = `${'['.repeat(depth)}"${'x'.repeat(11)}"${']'.repeat(depth)}`;

    // Act
    const paths = oversizedAttributes(json, JSON.parse(json), 10);

    // Assess
    expect(paths).toEqual([`$${'[0]'.repeat(depth)}`]);
  });

  it('ignores numbers, booleans and null, and long keys', () => {
    // Act / Assess
    expect(check({ ['k'.repeat(20)]: 12345678901, b: true, c: null }, 10)).toEqual([]);
  });
});

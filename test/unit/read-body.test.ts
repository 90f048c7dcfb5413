import { describe, expect, it } from 'vitest';
import { type BodyVerdict, mediaKind, readBody } from '../../functions/relay/core/inbound/read-body';

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

function read(contentType: string | undefined, body: string | Buffer): BodyVerdict {
  return readBody(contentType, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
}

function accepted(verdict: BodyVerdict): { json: string; parsed: unknown } {
  if (!verdict.ok)
    throw new Error(`expected the body to be accepted, got ${verdict.status} ${verdict.error}`);
  return verdict;
}

describe('readBody', () => {
  describe('JSON', () => {
    it('forwards the body byte for byte: big integers, key order, unicode and whitespace survive', () => {
      // Prepare
      const body =
        '{\n  "zeta": 12345678901234567890123,\n  "alpha" : 1.10,\t"name": "Päivitys ✓ \\u00e9 😀"\n}\n';

      // Act
      const { json } = accepted(read(JSON_TYPE, body));

      // Assess
      expect(json).toBe(body);
    });

    it('still validates what it forwards (the parsed value is available to the caller)', () => {
      // Act
      const { parsed } = accepted(read(JSON_TYPE, '{"a":[1,2,{"b":null}]}'));

      // Assess
      expect(parsed).toEqual({ a: [1, 2, { b: null }] });
    });

    it('accepts an array', () => {
      expect(accepted(read(JSON_TYPE, '[{"id":1},{"id":2}]')).json).toBe('[{"id":1},{"id":2}]');
    });

    it.each([
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'Application/JSON; charset="utf-8"',
      'application/vnd.api+json',
      'application/cloudevents+json; charset=utf-8',
      'application/json; charset=utf8',
      'application/json; charset=us-ascii',
    ])('accepts the content type %j', (contentType) => {
      expect(read(contentType, '{"a":1}').ok).toBe(true);
    });

    it.each([
      ['charset=iso-8859-1', 'application/json; charset=iso-8859-1'],
      ['text/plain', 'text/plain'],
      ['text/json', 'text/json'],
      ['multipart/form-data', 'multipart/form-data; boundary=x'],
      ['an empty content type', ''],
    ])('refuses %s with 415', (_label, contentType) => {
      // Act
      const verdict = read(contentType, '{"a":1}');

      // Assess
      expect(verdict).toMatchObject({ ok: false, status: 415 });
    });

    it('refuses a missing content type with 415', () => {
      expect(read(undefined, '{"a":1}')).toMatchObject({ ok: false, status: 415 });
    });

    it('refuses invalid JSON with 400 without quoting the body', () => {
      // Prepare
      const body = '{"password": "hunter2", oops}';

      // Act
      const verdict = read(JSON_TYPE, body);

      // Assess
      expect(verdict).toMatchObject({ ok: false, status: 400 });
      const error = verdict.ok ? '' : verdict.error;
      expect(error).not.toContain('hunter2');
      expect(error).not.toContain('oops');
    });

    it.each([
      ['an empty body', ''],
      ['a body of whitespace', ' \r\n\t'],
    ])('refuses %s with 400', (_label, body) => {
      expect(read(JSON_TYPE, body)).toMatchObject({ ok: false, status: 400, error: 'Body is empty' });
    });

    it.each(['42', '"x"', 'null', 'true'])('refuses the non-object JSON %s with 400', (body) => {
      expect(read(JSON_TYPE, body)).toMatchObject({
        ok: false,
        status: 400,
        error: 'Body must be a JSON object or array',
      });
    });

    it('refuses invalid UTF-8 with 400 rather than replacing the bytes', () => {
      // Prepare: a lone continuation byte and a truncated sequence inside a string
      const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0x80, 0xc3]), Buffer.from('"}')]);

      // Act
      const verdict = readBody(JSON_TYPE, body);

      // Assess
      expect(verdict).toEqual({ ok: false, status: 400, error: 'Body is not valid UTF-8' });
    });

    it('accepts a UTF-8 byte order mark and forwards the JSON without it', () => {
      // Prepare
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);

      // Act
      const { json } = accepted(readBody(JSON_TYPE, body));

      // Assess
      expect(json).toBe('{"a":1}');
      expect(JSON.parse(json)).toEqual({ a: 1 });
    });
  });

  describe('form', () => {
    it('turns the fields into a JSON object', () => {
      // Act
      const { json, parsed } = accepted(read(FORM_TYPE, 'ticket=42&title=Disk+full&note=50%25+%C3%A4'));

      // Assess
      expect(JSON.parse(json)).toEqual({ ticket: '42', title: 'Disk full', note: '50% ä' });
      expect(parsed).toEqual({ ticket: '42', title: 'Disk full', note: '50% ä' });
    });

    it('keeps every value of a repeated field, in order', () => {
      // Act
      const { json } = accepted(read(FORM_TYPE, 'tag=a&x=1&tag=b&tag=c'));

      // Assess
      expect(JSON.parse(json)).toEqual({ tag: ['a', 'b', 'c'], x: '1' });
    });

    it('keeps a field named __proto__ as data, without touching any prototype', () => {
      // Act
      const { json, parsed } = accepted(read(FORM_TYPE, '__proto__=polluted&constructor=x&a=1'));

      // Assess
      expect(json).toBe('{"__proto__":"polluted","constructor":"x","a":"1"}');
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(Object.hasOwn(parsed as object, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it('keeps a repeated __proto__ field as an array of data', () => {
      // Act
      const { json } = accepted(read(FORM_TYPE, '__proto__=a&__proto__=b'));

      // Assess
      expect(json).toBe('{"__proto__":["a","b"]}');
    });

    it('accepts an explicit UTF-8 charset', () => {
      expect(read(`${FORM_TYPE}; charset=utf-8`, 'a=1').ok).toBe(true);
    });

    it.each([
      ['an empty body', ''],
      ['a body without fields', '&&&'],
    ])('refuses %s with 400', (_label, body) => {
      expect(read(FORM_TYPE, body)).toMatchObject({ ok: false, status: 400 });
    });

    it('refuses invalid UTF-8 with 400', () => {
      expect(readBody(FORM_TYPE, Buffer.from([0x61, 0x3d, 0xff]))).toMatchObject({ ok: false, status: 400 });
    });
  });
});

describe('mediaKind', () => {
  it.each([
    ['application/json', 'json'],
    ['application/problem+json', 'json'],
    ['application/x-www-form-urlencoded', 'form'],
    ['application/json; charset=utf-16', undefined],
    ['application/xml', undefined],
    ['application/json-seq', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (contentType, kind) => {
    expect(mediaKind(contentType)).toBe(kind);
  });
});

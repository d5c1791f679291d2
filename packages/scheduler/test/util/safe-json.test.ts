// The one parser of outside JSON: prototype keys refused with their path, nesting and size bounded,
// numbers past a double's range refused, everything else exactly what JSON.parse returns.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveParams } from '../../src/dag/params.js';
import { isBatutaError } from '../../src/errors.js';
import { checkSafeJson, parseSafeJson } from '../../src/util/safe-json.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isBatutaError(error) ? error.code : `not a BatutaError: ${String(error)}`;
  }
}

describe('parseSafeJson', () => {
  it.each([
    ['a __proto__ key', '{"n":3,"__proto__":{"x":1}}', 'JSON_FORBIDDEN_KEY'],
    ['nested constructor', '{"a":{"constructor":{"prototype":{}}}}', 'JSON_FORBIDDEN_KEY'],
    ['prototype in a list', '[{"prototype":1}]', 'JSON_FORBIDDEN_KEY'],
    ['1e400', '{"n":1e400}', 'JSON_NUMBER_RANGE'],
    ['-1e999', '[-1e999]', 'JSON_NUMBER_RANGE'],
    ['65 levels', `${'['.repeat(65)}${']'.repeat(65)}`, 'JSON_TOO_DEEP'],
    ['10,000 levels', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, 'JSON_TOO_DEEP'],
    ['300,000 ASCII characters', `"${'x'.repeat(300_000)}"`, 'JSON_TOO_LARGE'],
    ['140,000 two-byte characters', `"${'é'.repeat(140_000)}"`, 'JSON_TOO_LARGE'],
    ['a cut object', '{"n":', 'JSON_INVALID'],
    ['an empty text', '', 'JSON_INVALID'],
  ])('refuses %s', (_label, text, code) => {
    expect(codeOf(() => parseSafeJson(text, '--conf'))).toBe(code);
  });

  it('names the input and the path of a forbidden key', () => {
    expect(() => parseSafeJson('{"a":[{"__proto__":1}]}', '--payload')).toThrow(
      /--payload\.a\[0\]\.__proto__.*'__proto__'/,
    );
  });

  it('accepts 64 levels, brackets inside strings, unicode and the limits given', () => {
    expect(codeOf(() => parseSafeJson(`${'['.repeat(64)}${']'.repeat(64)}`, 'x'))).toBeUndefined();
    expect(parseSafeJson('{"s":"[[[[{{{{\\"","u":"\\ud800\u{1F600}"}', 'x', { maxDepth: 1 })).toEqual({
      s: '[[[[{{{{"',
      u: '\ud800\u{1F600}',
    });
    expect(codeOf(() => parseSafeJson('[[1]]', 'x', { maxDepth: 1 }))).toBe('JSON_TOO_DEEP');
    expect(codeOf(() => parseSafeJson('"12345"', 'x', { maxBytes: 5 }))).toBe('JSON_TOO_LARGE');
  });

  it('returns what JSON.parse returns for any JSON without prototype keys', () => {
    fc.assert(
      fc.property(
        fc.json({ maxDepth: 5 }).filter((text) => !/__proto__|constructor|prototype/.test(text)),
        (text) => {
          const plain: unknown = JSON.parse(text);
          expect(parseSafeJson(text, 'x')).toEqual(plain);
        },
      ),
    );
  });

  it('never throws anything but a BatutaError, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json()), (text) => {
        const code = codeOf(() => parseSafeJson(text, 'x'));
        expect(code === undefined || code.startsWith('JSON_')).toBe(true);
      }),
    );
  });
});

describe('checkSafeJson and resolveParams', () => {
  it('refuses a conf read back with an own __proto__ key instead of replacing the prototype', () => {
    const conf = JSON.parse('{"n":3,"__proto__":{"x":1}}') as Record<string, unknown>;
    expect(codeOf(() => checkSafeJson(conf, 'conf'))).toBe('JSON_FORBIDDEN_KEY');
    expect(() => resolveParams({ n: { type: 'number' } }, conf)).toThrow(/conf\.__proto__/);
  });

  it('keeps the resolved conf a plain object', () => {
    const resolved = resolveParams({ n: { type: 'number', default: 1 } }, { m: 2 });
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype);
    expect(resolved).toEqual({ n: 1, m: 2 });
  });
});

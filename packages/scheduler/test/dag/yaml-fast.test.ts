// The fast front end may only accept what the positioned path reads identically and without a problem.
// Checked on every YAML file in the repository and on fuzzed text; and the loader gives the same DagSpec
// whichever path reads a file.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readYamlFast } from '../../src/dag/yaml-fast.js';
import { parseDagYaml } from '../../src/dag/yaml-loader.js';
import { YamlSource } from '../../src/dag/yaml-source.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

const repositoryYaml = [
  ...yamlFilesUnder(join(root, 'packages/scheduler/test/fixtures')),
  ...yamlFilesUnder(join(root, 'examples')),
];
const withoutBom = (text: string) => (text.startsWith('\uFEFF') ? text.slice(1) : text);

/** The property: whatever the fast path returns, YamlSource reads the same data and order, with no problem. */
function expectAgreement(text: string): boolean {
  const fast = readYamlFast(text);
  if (fast === undefined) return false;
  const slow = YamlSource.parse(text, 'x.yaml');
  expect(slow.fatal).toEqual([]);
  expect(slow.problems).toEqual([]);
  expect(fast.data).toStrictEqual(slow.toData());
  expect(fast.taskOrder).toEqual(slow.keysAt(['tasks']));
  return true;
}

describe('readYamlFast', () => {
  it('agrees with YamlSource on every YAML file in the repository, and reads the valid DAGs', () => {
    expect(repositoryYaml.length).toBeGreaterThan(60);
    const accepted = repositoryYaml.filter((file) => expectAgreement(withoutBom(readFileSync(file, 'utf8'))));
    const names = accepted.map((file) => file.slice(root.length));
    // The examples and the valid fixtures take the fast path (anchors and merge keys included).
    expect(names).toEqual(
      expect.arrayContaining([
        'examples/iris-batch/dag.yaml',
        'examples/hello/dag.yaml',
        'examples/mapping/dag.yaml',
        'packages/scheduler/test/fixtures/dags/anchors.yaml',
        'packages/scheduler/test/fixtures/dags/bom.yaml',
      ]),
    );
  });

  it.each([
    ['a number as a task id', 'id: d\ntasks:\n  1: { operator: empty }\n'],
    ['a null key', 'id: d\n~: x\ntasks: { a: { operator: empty } }\n'],
    ['a list as a key', 'id: d\n? [a, b]\n: x\ntasks: { a: { operator: empty } }\n'],
    ['an alias as a key', 'id: &k d\n*k : x\ntasks: { a: { operator: empty } }\n'],
    ['the reserved key', 'id: d\ntasks: { a: { operator: empty, with: { __proto__: 1 } } }\n'],
    ['a duplicate key', 'id: d\nid: e\ntasks: { a: { operator: empty } }\n'],
    ['two documents', 'id: d\ntasks: { a: { operator: empty } }\n---\nid: e\n'],
    ['an explicit tag', 'id: !!str d\ntasks: { a: { operator: empty } }\n'],
    ['a directive', '%YAML 1.1\n---\nid: d\ntasks: { a: { operator: empty } }\n'],
    ['tasks as an alias', 'x: &t { a: { operator: empty } }\nid: d\ntasks: *t\n'],
    ['merged task ids', 'x: &t { a: { operator: empty } }\nid: d\ntasks: { <<: *t, b: { operator: empty } }\n'],
    ['merged top-level fields', 'x: &t { id: d }\n<<: *t\ntasks: { a: { operator: empty } }\n'],
    ['a list at the root', '- id: d\n'],
    ['an empty file', ''],
    ['a syntax error', 'id: d\ntasks: [a\n'],
    ['an alias to no anchor', 'id: d\nretry: *r\n'],
    ['a number too large for a double', 'id: 1e400\ntasks: { a: { operator: empty } }\n'],
    ['a task id too large for a double', 'id: d\ntasks: { 1e400: { operator: empty } }\n'],
    ['a map merging itself', 'id: d\ntasks: { a: &t { operator: empty, <<: *t } }\n'],
    ['a key over 1,024 characters', `id: d\n${'k'.repeat(1_100)}: 1\ntasks: { a: { operator: empty } }\n`],
  ])('leaves %s to the positioned path', (_what, text) => {
    expect(readYamlFast(text)).toBeUndefined();
  });

  it('leaves aliases that expand past the limit to the positioned path', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 7; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const text = `${lines.join('\n')}\nid: d\ntasks: { a: { operator: empty } }\n`;
    expect(readYamlFast(text)).toBeUndefined();
    expect(YamlSource.parse(text, 'x.yaml').fatal[0]?.code).toBe('YAML_ALIAS_LIMIT');
  });

  it('counts each alias at the whole size of its anchor, as YamlSource does, even when merged keys are overridden', () => {
    const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}: 0`).join(', ');
    const merges = Array.from({ length: 60 }, (_, i) => `m${i}: { <<: *big, k0: 1 }`).join('\n');
    const text = `big: &big { ${keys} }\n${merges}\nid: d\ntasks: { a: { operator: empty } }\n`;
    expect(readYamlFast(text)).toBeUndefined();
    expect(YamlSource.parse(text, 'x.yaml').fatal[0]?.code).toBe('YAML_ALIAS_LIMIT');
  });

  it('keeps task ids in file order, integer-like ones included', () => {
    const text = 'id: d\ntasks:\n  b: { operator: empty }\n  "10": { operator: empty }\n  a: { operator: empty }\n';
    expect(readYamlFast(text)?.taskOrder).toEqual(['b', '10', 'a']);
    expectAgreement(text);
  });

  // Fragments that probe where two YAML readers part ways: core-schema scalars, quoting and escapes, block
  // scalars, anchors, merges, flow collections, odd keys and indentation.
  const keys = [
    'id',
    'tasks',
    'a',
    'b',
    'c',
    'd',
    'e',
    'f',
    'g',
    'h',
    '"1"',
    '1',
    '~',
    'true',
    '<<',
    "'x y'",
    '"__proto__"',
    '? k',
    '"q\\tk"',
  ];
  const values = [
    '1_000',
    '0o17',
    '0x1F',
    '017',
    '+12',
    '.5',
    '1.',
    '.inf',
    '-.Inf',
    '.NaN',
    '1e3',
    'True',
    'yes',
    '~',
    'Null',
    '2024-01-01',
    '0b11',
    '-0',
    '1:20',
    '"a\\tb\\u00e9"',
    "'it''s'",
    '|\n    line one\n    line two',
    '>-\n    folded\n    text',
    '&anc { k: v }',
    '*anc',
    '[1, two, "3"]',
    '{ a: 1, b: [x, y] }',
    '',
    'plain text # comment',
    'a: b',
    '"unterminated',
    '- item',
    '!!str 5',
    '@at',
    '`tick',
    '1e400',
    '-1e999',
    '9'.repeat(400),
    '1_000e400',
  ];
  const line = fc.record({
    indent: fc.constantFrom('', '', '', '', '  ', '    ', '- ', '  - '),
    key: fc.oneof(
      fc.constantFrom(...keys),
      fc.nat(60).map((n) => `k${n}`),
    ),
    value: fc.constantFrom(...values),
  });

  it('agrees with YamlSource on fuzzed documents', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 12 }), (lines) => {
        const text = `${lines.map(({ indent, key, value }) => `${indent}${key}: ${value}`).join('\n')}\n`;
        if (expectAgreement(text)) accepted++;
      }),
      { numRuns: 3_000, seed: 20261125 },
    );
    // The fuzz must reach the fast path often enough to mean something.
    expect(accepted).toBeGreaterThan(150);
  });
});

describe('the loader, whichever path reads the file', () => {
  const valid = repositoryYaml.filter((file) => /fixtures\/dags\/|examples\//.test(file));

  it.each(valid.map((file) => [file.slice(root.length), file]))('reads %s to the same DagSpec', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(readYamlFast(withoutBom(text))).toBeDefined();
    // A directive sends the same document down the positioned path.
    const slow = `%YAML 1.2\n---\n${withoutBom(text)}`;
    expect(readYamlFast(slow)).toBeUndefined();
    expect(parseDagYaml(text, 'dag.yaml')).toStrictEqual(parseDagYaml(slow, 'dag.yaml'));
  });
});

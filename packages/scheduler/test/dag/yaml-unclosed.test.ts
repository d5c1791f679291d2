// A quote, `[` or `{` left open is reported where it opens, with the point where the parser gave up as the
// issue's second position (endLocation), as PyYAML reports "while scanning a quoted scalar in line 6 …
// found unexpected end of stream in line 12".
import { describe, expect, it } from 'vitest';
import { parseDagYaml } from '../../src/dag/yaml-loader.js';
import { findUnclosedConstructs } from '../../src/dag/yaml-unclosed.js';
import { DagValidationError } from '../../src/errors.js';

function issuesOf(text: string): DagValidationError['issues'] {
  try {
    parseDagYaml(text, 'dag.yaml');
  } catch (error) {
    if (error instanceof DagValidationError) return error.issues;
    throw error;
  }
  throw new Error('the file loaded without an error');
}

type Position = [line: number, column: number];
const rows: Array<[what: string, text: string, opens: Position[], gaveUp: Position, message: string]> = [
  [
    'a double-quoted string never closed (the parser runs to the end of the file)',
    'id: x\ntasks:\n  a:\n    operator: shell\n    with:\n      command: "echo hi\n  b:\n    operator: empty\n',
    [[6, 16]],
    [9, 1],
    'this double-quoted string is never closed; the parser gave up at the end of the file (line 9, column 1). Close it with "',
  ],
  [
    "a single-quoted string never closed, after an escaped ''",
    "id: x\ntasks:\n  a:\n    operator: shell\n    with:\n      command: 'it''s\n  b:\n    operator: empty\n",
    [[6, 16]],
    [9, 1],
    "this single-quoted string is never closed; the parser gave up at the end of the file (line 9, column 1). Close it with '",
  ],
  [
    'a flow sequence whose next line is a key of the enclosing map',
    'id: x\ntasks:\n  a:\n    operator: empty\n    upstream: [b, c\n  b:\n    operator: empty\n',
    [[5, 15]],
    [6, 3],
    'this flow sequence [ is never closed; the parser gave up at line 6, column 3. Close it with ], or indent its continuation lines',
  ],
  [
    'a flow map whose next line is a key of the enclosing map',
    'id: x\ntasks:\n  a:\n    operator: shell\n    with: { command: echo\n  b:\n    operator: empty\n',
    [[5, 11]],
    [6, 3],
    'this flow map { is never closed; the parser gave up at line 6, column 3. Close it with }',
  ],
  [
    'a flow sequence inside a flow map, both open at the end of the file',
    'id: x\ntasks:\n  a:\n    with: { x: [1, 2\n',
    [
      [4, 11],
      [4, 16],
    ],
    [5, 1],
    'is never closed; the parser gave up at the end of the file (line 5, column 1)',
  ],
  [
    'a string with an escaped quote, opened after a closed one on the line before',
    'id: "x"\ndescription: "a \\" b\ntasks: {}\n',
    [[2, 14]],
    [4, 1],
    'this double-quoted string is never closed',
  ],
  ['the last character of the file an opening quote', 'id: "', [[1, 5]], [1, 6], 'never closed'],
];

describe('a YAML construct left open', () => {
  it.each(rows)('%s: reported where it opens, with where the parser gave up', (_what, text, opens, gaveUp, message) => {
    const issues = issuesOf(text);
    expect(issues.map((issue) => [issue.location?.line, issue.location?.column])).toEqual(opens);
    for (const issue of issues) {
      expect(issue.code).toBe('YAML_SYNTAX');
      expect(issue.endLocation).toEqual({ file: 'dag.yaml', line: gaveUp[0], column: gaveUp[1] });
      expect(issue.message).toContain(message);
    }
  });

  it('keeps other syntax errors where the parser found them, without a second position', () => {
    const [issue] = issuesOf('id: x\ntasks:\n\ta: { operator: empty }\n');
    expect(issue?.location).toMatchObject({ line: 3, column: 1 });
    expect(issue?.endLocation).toBeUndefined();
  });
});

describe('findUnclosedConstructs', () => {
  it.each([
    ['closed quotes and collections', "a: \"x \\\" y\"\nb: 'it''s'\nc: [1, {d: 2}]\n", []],
    ['an open double quote', 'a: "x\n', [{ kind: 'double-quoted', offset: 3 }]],
    ['a double quote closed only by an escaped one', 'a: "x\\"\n', [{ kind: 'double-quoted', offset: 3 }]],
    ['an open single quote', "a: 'x''\n", [{ kind: 'single-quoted', offset: 3 }]],
    ['an open flow sequence', 'a: [1, 2\n', [{ kind: 'flow-sequence', offset: 3 }]],
    ['an open flow map', 'a: {b: 1\n', [{ kind: 'flow-map', offset: 3 }]],
  ])('%s', (_what, text, expected) => {
    expect(findUnclosedConstructs(text)).toEqual(expected);
  });
});

// A user's YAML document (a models file, a rollout spec) checked by a zod schema, with every problem
// placed at file:line:column: the node of the field at fault, else the nearest ancestor that exists.
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { CliError, NotFoundError } from './cli-error.js';

/** Reads `file` and parses it with `schema`; NotFoundError when missing, CliError INVALID_FILE when bad. */
export function readYamlFile<S extends z.ZodType>(file: string, schema: S, what: string): z.infer<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new NotFoundError(`cannot read ${what} ${file}`);
  }
  return parseYamlText(text, file, schema, what);
}

/** `parseYamlText(text, 'models.yaml', schema, 'the models file')`: the parsed value, or INVALID_FILE. */
export function parseYamlText<S extends z.ZodType>(text: string, file: string, schema: S, what: string): z.infer<S> {
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, not a silent last-one-wins; aliases are bounded (toJS).
  const document = parseDocument(text.replace(/^\uFEFF/, ''), {
    lineCounter: lines,
    uniqueKeys: true,
  });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new CliError(
      'INVALID_FILE',
      `${at(first.pos[0])}: ${what} is not valid YAML: ${first.message.split('\n')[0]}`,
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new CliError('INVALID_FILE', `${file}: ${what} could not be read: ${(error as Error).message}`);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((issue) => {
    const path = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
    let offset = 0;
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        offset = node.range[0];
        break;
      }
    }
    return `${at(offset)}: ${path.join('.') || '(document)'}: ${issue.message}`;
  });
  throw new CliError('INVALID_FILE', `${what} is not valid:\n  ${problems.join('\n  ')}`);
}

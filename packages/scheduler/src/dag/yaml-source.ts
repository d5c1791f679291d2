// One YAML file with its node positions: parses it (one document, bounded aliases), checks what zod cannot
// see (duplicate keys, alias expansion, key types), and maps a field path back to line:column.
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseAllDocuments,
  type YAMLMap,
} from 'yaml';
import type { DagIssue, SourceLocation } from '../errors.js';
import { type DagIssueCode, formatFieldPath, type PathIssue, type PathSegment, RESERVED_KEY } from './issues.js';
import { CONSTRUCT_NAMES, findUnclosedConstructs, type UnclosedConstruct, unclosedKindOf } from './yaml-unclosed.js';

/** Alias expansion a file may always use, in nodes; a larger file may expand to 10× its own size. */
export const MIN_ALIAS_EXPANSION = 100_000;
const EXPANSION_FACTOR = 10;
/** Deeper nesting than this is refused before the recursive parts of the pipeline see it. */
export const MAX_NESTING = 200;

interface AnchorEntry {
  node: Node;
  /** Expanded size in nodes; undefined while the anchored node itself is still being walked. */
  size: number | undefined;
}

interface Frame {
  node: Node;
  path: PathSegment[];
  children: Array<{ node: Node | null; segment: PathSegment }>;
  next: number;
  size: number;
  depth: number;
}

const keyText = (key: unknown): string | undefined => {
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (typeof value === 'symbol') return undefined;
  return value === null ? '' : String(value);
};

const isMergeKey = (key: unknown): boolean => isScalar(key) && typeof key.value === 'symbol';

/** A YAML file parsed for the loader. Construct with `YamlSource.parse`; `fatal` lists problems that stop loading. */
export class YamlSource {
  readonly file: string;
  readonly text: string;
  readonly fatal: DagIssue[] = [];
  /** Problems that do not stop loading (duplicate keys, a second document). */
  readonly problems: DagIssue[] = [];
  readonly document: Document.Parsed | undefined;
  private readonly lines = new LineCounter();
  /** Each alias met in the walk → the node it stands for (yaml's own `resolve` rescans the document per call). */
  private readonly aliasTargets = new Map<Node, Node>();

  private constructor(text: string, file: string) {
    this.file = file;
    // A BOM is allowed; dropping it keeps columns on line 1 right.
    this.text = text.startsWith('\uFEFF') ? text.slice(1) : text;
    let documents: Document.Parsed[] = [];
    try {
      documents = parseAllDocuments(this.text, {
        lineCounter: this.lines,
        uniqueKeys: false, // reported below with the path, as DUPLICATE_TASK_ID or DUPLICATE_KEY
        merge: true,
        prettyErrors: false,
      }) as Document.Parsed[];
    } catch (error) {
      this.fatal.push(this.issue('YAML_SYNTAX', `the file could not be parsed: ${(error as Error).message}`, 0));
    }
    this.document = documents[0];
    if (this.fatal.length > 0) return;
    const [first, second] = documents;
    this.fatal.push(...this.syntaxIssues([...(first?.errors ?? []), ...(second?.errors ?? [])]));
    if (second !== undefined) {
      this.problems.push(
        this.issue(
          'MULTIPLE_DOCUMENTS',
          `a DAG file holds one YAML document; a second one starts here (${documents.length} in all). Put each DAG in its own file`,
          second.range[0],
        ),
      );
    }
    if (first === undefined || first.contents === null || (isScalar(first.contents) && first.contents.value === null)) {
      if (this.fatal.length === 0)
        this.fatal.push(
          this.issue('EMPTY_FILE', 'the file is empty; a DAG file is a map with at least id and tasks', 0),
        );
      return;
    }
    if (this.fatal.length > 0) return;
    if (!isMap(first.contents)) {
      const found = isSeq(first.contents) ? 'a list' : isAlias(first.contents) ? 'an alias' : 'a single value';
      this.fatal.push(
        this.issue(
          'NOT_A_MAP',
          `a DAG file is a map of fields (id, tasks, …); found ${found}`,
          first.contents.range?.[0] ?? 0,
        ),
      );
      return;
    }
    this.inspect(first.contents);
  }

  /** Parses `text`; never throws (problems land in `fatal` and `problems`). */
  static parse(text: string, file: string): YamlSource {
    return new YamlSource(text, file);
  }

  /**
   * The document as plain data, aliases and merge keys resolved; one value per anchor, shared by its aliases,
   * as yaml's own toJS does. That toJS finds each alias's anchor by rescanning every anchor and alias before
   * it (quadratic: 10,000 aliases took 7 s); this pass reuses the targets the walk recorded, so it is linear,
   * and the walk has already bounded what aliases expand to.
   */
  toData(): unknown {
    const memo = new Map<Node, unknown>();
    const convert = (node: unknown): unknown => {
      if (isAlias(node)) {
        const target = this.aliasTargets.get(node);
        return target === undefined ? null : convert(target);
      }
      if (!isNode(node)) return null;
      if (memo.has(node)) return memo.get(node);
      let value: unknown = null;
      // A `%YAML 1.1` directive makes yaml read timestamps as Dates; the schema expects the ISO text.
      if (isScalar(node)) value = node.value instanceof Date ? node.value.toISOString() : node.value;
      else if (isSeq(node)) value = node.items.map((item) => convert(item));
      else if (isMap(node)) value = this.mapToData(node, convert);
      if (node.anchor) memo.set(node, value);
      return value;
    };
    return convert(this.document?.contents);
  }

  /** A map as an object: explicit keys win over merged ones (`<<`), and earlier merge sources over later ones. */
  private mapToData(map: YAMLMap, convert: (node: unknown) => unknown): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a `__proto__` key stays a plain key (it is reported as reserved).
    const define = (key: string, value: unknown): void => {
      Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
    };
    for (const pair of map.items) {
      if (isMergeKey(pair.key)) {
        const value = this.resolve(pair.value);
        for (const source of isSeq(value) ? value.items.map((item) => this.resolve(item)) : [value]) {
          if (!isMap(source)) continue;
          const merged = convert(source) as Record<string, unknown>;
          for (const key of Object.keys(merged)) if (!Object.hasOwn(out, key)) define(key, merged[key]);
        }
        continue;
      }
      const key = keyText(this.resolve(pair.key));
      if (key !== undefined) define(key, convert(pair.value));
    }
    return out;
  }

  /** Line and column (1-based) of a byte offset in the text as parsed. */
  locationAt(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /** Gives a PathIssue the location of its node: the value, or the key for `at: 'key'`; else the nearest ancestor. */
  locate(issue: PathIssue): DagIssue {
    return {
      code: issue.code,
      message: issue.message,
      field: formatFieldPath(issue.path),
      location: this.locationAt(this.offsetOf(issue.path, issue.at ?? 'value')),
    };
  }

  /** Keys of the map at `path`, in file order (used to keep task order). */
  keysAt(path: readonly PathSegment[]): string[] {
    const node = this.nodeAt(path);
    if (!isMap(node)) return [];
    const keys: string[] = [];
    for (const pair of node.items) {
      const key = keyText(this.resolve(pair.key));
      if (key !== undefined) keys.push(key);
    }
    return keys;
  }

  /**
   * The parser's errors as issues. One about a quote, `[` or `{` left open is placed where that construct
   * opens (the parser only notices where it gives up, often the end of the file), with the give-up point
   * as the issue's `endLocation`.
   */
  private syntaxIssues(errors: ReadonlyArray<{ message: string; pos: [number, number] }>): DagIssue[] {
    let unclosed: UnclosedConstruct[] | undefined;
    const claimed = new Set<UnclosedConstruct>();
    return errors.map((error) => {
      const kind = unclosedKindOf(error.message);
      if (kind === undefined) return this.issue('YAML_SYNTAX', error.message, error.pos[0]);
      unclosed ??= findUnclosedConstructs(this.text);
      // The innermost construct of that kind open before the give-up point: the last one to open.
      const construct = unclosed.findLast((c) => c.kind === kind && c.offset < error.pos[0] && !claimed.has(c));
      if (construct === undefined) return this.issue('YAML_SYNTAX', error.message, error.pos[0]);
      claimed.add(construct);
      const gaveUp = this.locationAt(error.pos[0]);
      const where = this.text.slice(error.pos[0]).trim() === '' ? 'the end of the file' : 'line';
      const { name, close } = CONSTRUCT_NAMES[kind];
      const at =
        where === 'line'
          ? `line ${gaveUp.line}, column ${gaveUp.column}`
          : `the end of the file (line ${gaveUp.line}, column ${gaveUp.column})`;
      return {
        ...this.issue(
          'YAML_SYNTAX',
          `this ${name} is never closed; the parser gave up at ${at}. Close it with ${close}` +
            (kind.startsWith('flow') && where === 'line'
              ? ', or indent its continuation lines more than the key that holds it'
              : '') +
            ` (${error.message})`,
          construct.offset,
        ),
        endLocation: gaveUp,
      };
    });
  }

  private issue(code: DagIssueCode, message: string, offset: number, field = ''): DagIssue {
    return { code, message, field, location: this.locationAt(offset) };
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? (this.aliasTargets.get(node) ?? node) : node;
  }

  /** The pair for `key` in `map`, as toJS sees it: the last explicit one, else the first merge source that has it. */
  private pairOf(map: YAMLMap, key: PathSegment, depth = 0): Pair | undefined {
    const wanted = String(key);
    let found: Pair | undefined;
    for (const pair of map.items) if (keyText(this.resolve(pair.key)) === wanted) found = pair;
    if (found || depth > 8) return found;
    for (const pair of map.items) {
      if (!isMergeKey(pair.key)) continue;
      const value = this.resolve(pair.value);
      const sources = isSeq(value) ? value.items.map((item) => this.resolve(item)) : [value];
      for (const source of sources) {
        if (!isMap(source)) continue;
        const merged = this.pairOf(source, key, depth + 1);
        if (merged) return merged;
      }
    }
    return undefined;
  }

  private nodeAt(path: readonly PathSegment[]): unknown {
    let node: unknown = this.document?.contents;
    for (const segment of path) {
      node = this.resolve(node);
      if (isMap(node)) node = this.pairOf(node, segment)?.value;
      else if (isSeq(node) && typeof segment === 'number') node = node.items[segment];
      else return undefined;
    }
    return node;
  }

  private offsetOf(path: readonly PathSegment[], at: 'key' | 'value'): number {
    let node: unknown = this.document?.contents;
    let fallback = (this.document?.contents as Node | null | undefined)?.range?.[0] ?? 0;
    let lastPair: Pair | undefined;
    for (const segment of path) {
      const current = this.resolve(node);
      if (isMap(current)) {
        lastPair = this.pairOf(current, segment);
        if (!lastPair) return fallback;
        node = lastPair.value;
        fallback = (lastPair.key as Node | null)?.range?.[0] ?? fallback;
      } else if (isSeq(current) && typeof segment === 'number' && current.items[segment] !== undefined) {
        lastPair = undefined;
        node = current.items[segment];
        fallback = (node as Node | null)?.range?.[0] ?? fallback;
      } else {
        return fallback;
      }
    }
    if (at === 'key' && lastPair) return (lastPair.key as Node | null)?.range?.[0] ?? fallback;
    const range = (node as Node | null | undefined)?.range;
    // An empty value (`timeout:`) has no text of its own; its key is where the eye goes.
    if (!range || (range[0] === range[1] && lastPair)) return fallback;
    return range[0];
  }

  /**
   * Walks the document once, without following aliases: duplicate keys, keys that are not plain strings,
   * unknown anchors, aliases inside their own anchor, merge keys on non-maps, nesting depth, and the size
   * aliases expand to: at most MIN_ALIAS_EXPANSION nodes, or 10× the file's own nodes when that is more.
   */
  private inspect(root: YAMLMap): void {
    const anchors = new Map<string, AnchorEntry>();
    const aliasSites: Array<{ alias: Node; expandedSoFar: number }> = [];
    let expanded = 0;
    let literalNodes = 0;
    const problem = (code: DagIssueCode, message: string, node: unknown, path: PathSegment[]): void => {
      this.problems.push(this.issue(code, message, (node as Node | null)?.range?.[0] ?? 0, formatFieldPath(path)));
    };
    const stop = (code: DagIssueCode, message: string, node: unknown, path: PathSegment[] = []): void => {
      this.fatal.push(this.issue(code, message, (node as Node | null)?.range?.[0] ?? 0, formatFieldPath(path)));
    };

    // Aliases resolve to the latest anchor of that name defined before them, as yaml resolves them.
    const resolveNow = (node: unknown): unknown => (isAlias(node) ? (anchors.get(node.source)?.node ?? node) : node);
    const open = (node: Node, path: PathSegment[], depth: number): Frame => {
      literalNodes++;
      if (node.anchor) anchors.set(node.anchor, { node, size: undefined });
      const children: Frame['children'] = [];
      if (isMap(node)) {
        const seen = new Map<string, Node>();
        for (const pair of node.items) {
          if (isMergeKey(pair.key)) {
            const value = resolveNow(pair.value);
            const sources = isSeq(value) ? value.items.map((item) => resolveNow(item)) : [value];
            if (!sources.every((source) => isMap(source))) {
              // Fatal: yaml's toJS refuses such a merge.
              stop(
                'INVALID_TYPE',
                "a merge key '<<' takes a map, an alias of a map, or a list of those",
                pair.value,
                path,
              );
            }
            children.push({ node: pair.value as Node | null, segment: '<<' });
            continue;
          }
          const keyNode = pair.key as Node | null;
          if (keyNode?.anchor) anchors.set(keyNode.anchor, { node: keyNode, size: 1 });
          if (isAlias(keyNode)) {
            const target = anchors.get(keyNode.source)?.node;
            if (target) this.aliasTargets.set(keyNode, target);
          }
          const key = keyText(this.resolve(keyNode));
          if (key === undefined) {
            problem('INVALID_TYPE', 'a key must be a plain string, not a list or a map', keyNode, path);
            continue;
          }
          if (key === RESERVED_KEY) {
            const isId = path.length === 1 && (path[0] === 'tasks' || path[0] === 'params');
            const message = `the key '${RESERVED_KEY}' is reserved (JavaScript objects treat it specially); rename it`;
            this.problems.push({
              ...this.issue(isId ? 'INVALID_ID' : 'INVALID_VALUE', message, keyNode?.range?.[0] ?? 0),
              field: formatFieldPath([...path, key]),
            });
          }
          const earlier = seen.get(key);
          if (earlier !== undefined && keyNode) {
            const line = this.locationAt(earlier.range?.[0] ?? 0).line;
            const isTask = path.length === 1 && path[0] === 'tasks';
            this.problems.push({
              ...this.issue(
                isTask ? 'DUPLICATE_TASK_ID' : 'DUPLICATE_KEY',
                isTask
                  ? `task id '${key}' is defined twice (first on line ${line}); task ids are unique within a DAG`
                  : `key '${key}' appears twice in this map (first on line ${line}); YAML would keep only the last`,
                keyNode.range?.[0] ?? 0,
              ),
              field: formatFieldPath([...path, key]),
            });
          }
          if (keyNode) seen.set(key, keyNode);
          children.push({ node: pair.value as Node | null, segment: key });
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, index) => {
          children.push({ node: item as Node | null, segment: index });
        });
      }
      return { node, path, children, next: 0, size: 1, depth };
    };

    const stack: Frame[] = [open(root, [], 0)];
    while (stack.length > 0 && this.fatal.length === 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.next >= frame.children.length) {
        stack.pop();
        const entry = frame.node.anchor ? anchors.get(frame.node.anchor) : undefined;
        if (entry && entry.node === frame.node) entry.size = frame.size;
        const parent = stack[stack.length - 1];
        if (parent) parent.size += frame.size;
        continue;
      }
      const { node: child, segment } = frame.children[frame.next++]!;
      if (child === null || isPair(child)) {
        frame.size += 1;
        continue;
      }
      const path = [...frame.path, segment];
      if (isAlias(child)) {
        const entry = anchors.get(child.source);
        if (entry === undefined) {
          stop('YAML_SYNTAX', `alias '*${child.source}' refers to no anchor defined before it`, child);
        } else if (entry.size === undefined) {
          stop(
            'YAML_ALIAS_LIMIT',
            `alias '*${child.source}' sits inside its own anchor, which would expand forever`,
            child,
          );
        } else {
          this.aliasTargets.set(child, entry.node);
          expanded += entry.size;
          frame.size += entry.size;
          aliasSites.push({ alias: child, expandedSoFar: expanded });
        }
        continue;
      }
      if (frame.depth + 1 > MAX_NESTING) {
        stop('YAML_SYNTAX', `the document nests deeper than ${MAX_NESTING} levels`, child);
        continue;
      }
      stack.push(open(child, path, frame.depth + 1));
    }

    const budget = Math.max(MIN_ALIAS_EXPANSION, EXPANSION_FACTOR * literalNodes);
    const over = this.fatal.length === 0 ? aliasSites.find((site) => site.expandedSoFar > budget) : undefined;
    if (over) {
      stop(
        'YAML_ALIAS_LIMIT',
        `aliases expand this file beyond ${budget} nodes (a "billion laughs" pattern); expansion stops at this alias`,
        over.alias,
      );
    }
  }
}

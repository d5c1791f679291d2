// YAML DAG files → validated DagSpecs. Every problem found is reported at once, each with file:line:column
// and the field, sorted by position so the first one printed is the first one in the file.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type DagIssue, DagValidationError } from '../errors.js';
import type { PathIssue } from './issues.js';
import type { DagSpec } from './model.js';
import { normalizeDagDocument } from './normalize.js';
import { dagDocumentSchema } from './schema.js';
import { type GraphTask, taskGraphIssues } from './task-graph.js';
import { collectDagIssues, type ValidateOptions } from './validate.js';
import { readYamlFast } from './yaml-fast.js';
import { YamlSource } from './yaml-source.js';
import { zodIssuesToPathIssues } from './zod-issues.js';

/** Options of the YAML loaders. */
export interface LoadOptions extends ValidateOptions {}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function byPosition(issues: DagIssue[]): DagIssue[] {
  // Array.prototype.sort is stable: issues at one position keep the order they were found in.
  return [...issues].sort(
    (a, b) =>
      (a.location?.line ?? 0) - (b.location?.line ?? 0) || (a.location?.column ?? 0) - (b.location?.column ?? 0),
  );
}

/** The graph as far as a document that failed the schema shows it, so a cycle is reported with a type error. */
function roughGraph(data: unknown, order: readonly string[]): GraphTask[] {
  if (!isRecord(data) || !isRecord(data.tasks)) return [];
  const tasks = data.tasks;
  const ids = [...new Set([...order, ...Object.keys(tasks)])].filter((id) => Object.hasOwn(tasks, id));
  return ids.map((id): GraphTask => {
    const task = tasks[id];
    if (!isRecord(task)) return { id, upstream: [] };
    const upstream = typeof task.upstream === 'string' ? [task.upstream] : task.upstream;
    const usable = Array.isArray(upstream) && upstream.every((entry) => typeof entry === 'string');
    const over = isRecord(task.map) && isRecord(task.map.over) ? task.map.over : {};
    const mapSources = Object.entries(over).filter((entry): entry is [string, string] => typeof entry[1] === 'string');
    return { id, upstream: usable ? (upstream as string[]) : [], mapSources: usable ? mapSources : [] };
  });
}

interface ParsedFile {
  dag: DagSpec;
  /** The file with positions; parsed on first use when the fast path read the file. */
  source: () => YamlSource;
}

/**
 * A file read by the fast front end and valid as it stands; undefined when it needs the positioned path
 * (anything the fast path cannot vouch for, or any problem to report with its line and column).
 */
function parseValidFast(text: string, file: string, options: LoadOptions): DagSpec | undefined {
  const fast = readYamlFast(text.startsWith('\uFEFF') ? text.slice(1) : text);
  if (fast === undefined) return undefined;
  const parsed = dagDocumentSchema.safeParse(fast.data);
  if (!parsed.success) return undefined;
  const dag = normalizeDagDocument(parsed.data, { sourceFile: file, taskOrder: fast.taskOrder });
  return collectDagIssues(dag, options).length === 0 ? dag : undefined;
}

function parseFile(text: string, file: string, options: LoadOptions): ParsedFile {
  const fast = parseValidFast(text, file, options);
  if (fast !== undefined) {
    let source: YamlSource | undefined;
    return { dag: fast, source: () => (source ??= YamlSource.parse(text, file)) };
  }
  const source = YamlSource.parse(text, file);
  const fail = (issues: DagIssue[]): never => {
    throw new DagValidationError(byPosition(issues));
  };
  if (source.fatal.length > 0) fail([...source.fatal, ...source.problems]);
  const data = source.toData();

  const issues: PathIssue[] = [];
  const taskOrder = source.keysAt(['tasks']);
  const parsed = dagDocumentSchema.safeParse(data, { reportInput: true });
  let dag: DagSpec | undefined;
  if (parsed.success) {
    dag = normalizeDagDocument(parsed.data, { sourceFile: file, taskOrder });
    issues.push(...collectDagIssues(dag, options));
  } else {
    issues.push(...zodIssuesToPathIssues(parsed.error.issues, dagDocumentSchema));
    issues.push(...taskGraphIssues(roughGraph(data, taskOrder)));
  }
  const all = [...source.problems, ...issues.map((issue) => source.locate(issue))];
  if (all.length > 0 || dag === undefined) fail(all);
  return { dag: dag as DagSpec, source: () => source };
}

/** Parses and validates one DAG file's text; throws DagValidationError listing every problem with its location. */
export function parseDagYaml(text: string, file: string, options: LoadOptions = {}): DagSpec {
  return parseFile(text, file, options).dag;
}

// One decoder serves every file: decode() without `stream` starts afresh each call.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    // Point at the first byte that is not UTF-8: decode leniently and find the first replacement character.
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const before = lenient.slice(0, Math.max(0, lenient.indexOf('\uFFFD')));
    const lines = before.split('\n');
    throw new DagValidationError([
      {
        code: 'YAML_SYNTAX',
        message: 'the file is not valid UTF-8; save it as UTF-8 (with or without a BOM)',
        field: '',
        location: { file, line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 },
      },
    ]);
  }
}

async function readDagFile(path: string, options: LoadOptions): Promise<ParsedFile> {
  const bytes = await readFile(path);
  return parseFile(decodeUtf8(bytes, path), path, options);
}

/** loadDagFile, synchronously: for a folder of small files, reading and parsing in one go is fastest. */
export function loadDagFileSync(path: string, options: LoadOptions = {}): DagSpec {
  return parseFile(decodeUtf8(readFileSync(path), path), path, options).dag;
}

/** Loads and validates one DAG file (UTF-8, with or without a BOM). */
export async function loadDagFile(path: string, options: LoadOptions = {}): Promise<DagSpec> {
  return (await readDagFile(path, options)).dag;
}

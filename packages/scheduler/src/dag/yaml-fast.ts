// The fast front end for the common case: a DAG file that reads as plain data with nothing to report.
// js-yaml builds that data ~4× faster than `yaml` builds its positioned document, but keeps no positions
// and bends some rules (non-string keys become strings). So this path only vouches for files it can prove
// read exactly as the positioned path (YamlSource) reads them; anything else returns undefined and the
// loader falls back to YamlSource, which finds every problem and names its line and column. A test feeds
// both paths the fixtures and fuzzed text and checks that whatever this path accepts, YamlSource reads
// identically and without a problem.
import {
  CORE_SCHEMA,
  constructFromEvents,
  defineMappingTag,
  EVENT_ID,
  type Event,
  getScalarValue,
  mergeTag,
  parseEvents,
  SCALAR_STYLE,
} from 'js-yaml';
import { RESERVED_KEY } from './issues.js';
import { MIN_ALIAS_EXPANSION } from './yaml-source.js';

/** What the fast path read: the document as data, and the task ids in file order. */
export interface FastYaml {
  data: Record<string, unknown>;
  taskOrder: string[];
}

/** Refused by the map tag: js-yaml would stringify the key, YAML keeps its type; YamlSource reports it. */
const NOT_A_PLAIN_KEY = 'key is not a plain string';

// Plain objects with string keys only. `__proto__` is refused too: YamlSource reports it as reserved.
const stringKeyMapTag = defineMappingTag<Record<string, unknown>>('tag:yaml.org,2002:map', {
  create: () => ({}),
  addPair: (carrier, key, value) => {
    if (typeof key !== 'string' || key === RESERVED_KEY) return NOT_A_PLAIN_KEY;
    carrier[key] = value;
    return '';
  },
  has: (carrier, key) => typeof key === 'string' && Object.hasOwn(carrier, key),
  keys: (result) => Object.keys(result),
  get: (result, key) => result[key as string],
  identify: () => false,
});

// YAML 1.2 core scalars (what `yaml` resolves by default) with merge keys, as YamlSource reads them.
const SCHEMA = CORE_SCHEMA.withTags(mergeTag, stringKeyMapTag);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A plain scalar that may be a number past a double's range (js-yaml keeps it as text, `yaml` as ±Infinity). */
const HUGE_NUMBER = /^[-+]?(\.[0-9]|[0-9])[0-9._]*([eE][-+]?[0-9]{3,})?$/;
/** `yaml` refuses an implicit key longer than 1,024 characters; stay clear of the limit. */
const MAX_KEY_SPAN = 1_000;

/**
 * One pass over the events: a single document with no directives and no explicit tags, a map at the root,
 * no complex, aliased or over-long keys, no number too large for a double, no alias to a collection that is
 * still open (a map merging itself), and aliases expanding to at most MIN_ALIAS_EXPANSION nodes, counted
 * as YamlSource counts them (each alias adds its anchor's whole size) or more. Returns the `tasks` map's
 * keys in file order (a JS object would put integer-like keys first), or undefined when the file needs
 * the positioned path.
 */
function scanEvents(text: string, events: readonly Event[]): string[] | undefined {
  const first = events[0];
  if (first?.type !== EVENT_ID.DOCUMENT || first.directives.length > 0) return undefined;
  if (events[1]?.type !== EVENT_ID.MAPPING) return undefined;
  // Per open collection: is it a map, does its next child sit in key position, its anchor, and the node
  // count when it opened.
  const isMap: boolean[] = [];
  const atKey: boolean[] = [];
  const anchorOf: Array<string | undefined> = [];
  const openedAt: number[] = [];
  const sizes = new Map<string, number>();
  let nodes = 0;
  let expanded = 0;
  let tasksDepth = -1;
  let nextIsTasks = false;
  const taskOrder: string[] = [];
  for (let index = 1; index < events.length; index++) {
    const event = events[index]!;
    if (event.type === EVENT_ID.DOCUMENT) return undefined; // a second document
    if (event.type === EVENT_ID.POP) {
      if (isMap.length - 1 === tasksDepth) tasksDepth = -1;
      const anchor = anchorOf.pop();
      const opened = openedAt.pop() ?? nodes;
      if (anchor !== undefined) sizes.set(anchor, nodes - opened + 1);
      isMap.pop();
      atKey.pop();
      continue;
    }
    nodes++;
    if (event.type === EVENT_ID.ALIAS) {
      const name = text.slice(event.anchorStart, event.anchorEnd);
      const size = sizes.get(name);
      if (size === undefined) return undefined; // unknown, or still open (an alias inside its own anchor)
      expanded += size;
      nodes += size;
      if (expanded > MIN_ALIAS_EXPANSION) return undefined;
    } else if (event.tagStart !== -1) {
      return undefined;
    }
    const depth = isMap.length - 1;
    const keyPosition = depth >= 0 && isMap[depth] === true && atKey[depth] === true;
    if (depth >= 0 && isMap[depth]) atKey[depth] = !atKey[depth];
    const valueOfTasks = nextIsTasks;
    nextIsTasks = false;
    if (event.type === EVENT_ID.SCALAR) {
      // Only a plain scalar starting like a number, 4+ characters long, can overflow a double (1e400).
      const first = text.charCodeAt(event.valueStart);
      const numeric = (first >= 48 && first <= 57) || first === 43 || first === 45 || first === 46;
      if (event.style === SCALAR_STYLE.PLAIN && numeric && event.valueEnd - event.valueStart >= 4) {
        if (event.valueEnd - event.valueStart > 300) return undefined;
        const source = text.slice(event.valueStart, event.valueEnd);
        if (HUGE_NUMBER.test(source) && Math.abs(Number(source.replaceAll('_', ''))) === Number.POSITIVE_INFINITY) {
          return undefined;
        }
      }
      if (event.anchorStart !== -1) sizes.set(text.slice(event.anchorStart, event.anchorEnd), 1);
    }
    if (keyPosition) {
      if (event.type !== EVENT_ID.SCALAR) return undefined; // a list, map or alias as a key
      if (event.valueEnd - event.valueStart > MAX_KEY_SPAN) return undefined;
      if (depth === 0 || depth === tasksDepth) {
        const key = getScalarValue(text, event);
        // Merged-in fields or task ids have no place in the file order: the positioned path orders those.
        if (key === '<<') return undefined;
        if (depth === 0) nextIsTasks = key === 'tasks';
        else taskOrder.push(key);
      }
      continue;
    }
    if (valueOfTasks && event.type === EVENT_ID.ALIAS) return undefined; // `tasks: *others`, as above
    if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) {
      if (valueOfTasks && event.type === EVENT_ID.MAPPING) tasksDepth = depth + 1;
      isMap.push(event.type === EVENT_ID.MAPPING);
      atKey.push(true);
      const anchor = event.anchorStart === -1 ? undefined : text.slice(event.anchorStart, event.anchorEnd);
      // Open: an alias to it now would be an alias inside its own anchor.
      if (anchor !== undefined) sizes.delete(anchor);
      anchorOf.push(anchor);
      openedAt.push(nodes);
    }
  }
  return taskOrder;
}

/**
 * Reads `text` (without a BOM) the fast way, or returns undefined when only the positioned path may judge
 * it: a syntax error, a duplicate or non-string key, several documents, directives or tags, nesting past
 * js-yaml's depth limit, aliases expanding past MIN_ALIAS_EXPANSION nodes, a root that is not a map.
 */
export function readYamlFast(text: string): FastYaml | undefined {
  try {
    const events = parseEvents(text, {});
    const taskOrder = scanEvents(text, events);
    if (taskOrder === undefined) return undefined;
    const [data] = constructFromEvents(events, { source: text, schema: SCHEMA });
    if (!isRecord(data)) return undefined; // scanEvents has bounded what the aliases expand to
    return { data, taskOrder };
  } catch {
    return undefined;
  }
}

// Where an unclosed construct opens. For a quote, `[` or `{` left open, the YAML parser notices only where
// it gives up — often the end of the file — far from the mistake. As PyYAML says "while scanning a quoted
// scalar in line 6 … found unexpected end of stream in line 12", the loader reports the opening as the
// problem's position and the give-up point as the second one. Found in yaml's concrete syntax tree.
import { Parser } from 'yaml';

/** A construct whose closing character never comes. */
export interface UnclosedConstruct {
  kind: 'double-quoted' | 'single-quoted' | 'flow-sequence' | 'flow-map';
  /** Offset of the opening `"`, `'`, `[` or `{`. */
  offset: number;
}

/** What each kind is called in a message, and the character that closes it. */
export const CONSTRUCT_NAMES: Record<UnclosedConstruct['kind'], { name: string; close: string }> = {
  'double-quoted': { name: 'double-quoted string', close: '"' },
  'single-quoted': { name: 'single-quoted string', close: "'" },
  'flow-sequence': { name: 'flow sequence [', close: ']' },
  'flow-map': { name: 'flow map {', close: '}' },
};

/** The kind of construct a yaml parse error says was left open, if it says one was. */
export function unclosedKindOf(message: string): UnclosedConstruct['kind'] | undefined {
  if (message.startsWith('Missing closing "quote')) return 'double-quoted';
  if (message.startsWith("Missing closing 'quote")) return 'single-quoted';
  if (/^Flow sequence .*end with a \]/.test(message)) return 'flow-sequence';
  if (/^Flow map .*end with a \}/.test(message)) return 'flow-map';
  return undefined;
}

/** Every quote, flow sequence and flow map in `text` that is never closed, in the order they open. */
export function findUnclosedConstructs(text: string): UnclosedConstruct[] {
  const found: UnclosedConstruct[] = [];
  const visit = (token: unknown): void => {
    if (Array.isArray(token)) {
      for (const item of token) visit(item);
      return;
    }
    if (typeof token !== 'object' || token === null) return;
    const node = token as { type?: unknown; offset?: unknown; source?: unknown; start?: unknown; end?: unknown };
    if (node.type === 'flow-collection') {
      const start = node.start as { type: string; offset: number };
      const ends = Array.isArray(node.end) ? (node.end as Array<{ type: string }>) : [];
      const closer = start.type === 'flow-seq-start' ? 'flow-seq-end' : 'flow-map-end';
      if (!ends.some((end) => end.type === closer)) {
        found.push({ kind: start.type === 'flow-seq-start' ? 'flow-sequence' : 'flow-map', offset: start.offset });
      }
    } else if (node.type === 'double-quoted-scalar' || node.type === 'single-quoted-scalar') {
      const source = String(node.source);
      const double = node.type === 'double-quoted-scalar';
      if (!(double ? closesDouble(source) : closesSingle(source))) {
        found.push({ kind: double ? 'double-quoted' : 'single-quoted', offset: Number(node.offset) });
      }
    }
    for (const value of Object.values(node)) if (typeof value === 'object') visit(value);
  };
  for (const token of new Parser().parse(text)) visit(token);
  return found.sort((a, b) => a.offset - b.offset);
}

/** `"…"` ends with a quote that no backslash escapes. */
function closesDouble(source: string): boolean {
  for (let i = 1; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === '"') return i === source.length - 1;
  }
  return false;
}

/** `'…'` ends with a lone quote (`''` inside is an escaped quote). */
function closesSingle(source: string): boolean {
  for (let i = 1; i < source.length; i++) {
    if (source[i] !== "'") continue;
    if (source[i + 1] === "'") i++;
    else return i === source.length - 1;
  }
  return false;
}

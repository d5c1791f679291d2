// Loads a DAG module as an ES module whatever its package.json says. Node (and tsx after it) would load a
// .ts/.js file outside a `"type": "module"` package as CommonJS; such a DAG then `require`s
// @batuta/scheduler, an ES module, which Node 20 cannot do (tsx's stand-in breaks on CommonJS packages the
// scheduler imports: "Cannot redefine property: default"). A module loader hook, registered once, loads
// a URL carrying the marker query parameter with format "module"; tsx, registered after it, then compiles
// the TypeScript as ESM. Only that URL is affected: files it imports are loaded as Node decides.
import * as nodeModule from 'node:module';

/** The query parameter that asks the hook for format "module". */
export const ES_MODULE_MARKER = 'batuta-format';

// For TypeScript the answer is "module-typescript", the format tsx compiles as ESM (Node's own name for it).
const HOOK = `
export async function load(url, context, nextLoad) {
  const parsed = new URL(url);
  if (parsed.searchParams.get('${ES_MODULE_MARKER}') !== 'module') return nextLoad(url, context);
  const loaded = await nextLoad(url, { ...context, format: 'module' });
  return /\\.[cm]?tsx?$/.test(parsed.pathname) ? { ...loaded, format: 'module-typescript' } : loaded;
}
`;

let registered: boolean | undefined;

/** Registers the hook (once per process); false when this Node has no `module.register` (before 20.6). */
export function registerEsModuleHook(): boolean {
  if (registered !== undefined) return registered;
  const register = (nodeModule as { register?: (specifier: string) => void }).register;
  registered = typeof register === 'function';
  if (registered) register!(`data:text/javascript,${encodeURIComponent(HOOK)}`);
  return registered;
}

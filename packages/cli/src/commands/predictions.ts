import { PredictionClient, PredictionSets, rollback, type VersionInfo } from '@batuta/ml-tasks';
import { UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { predictionsGetJson, printJson } from '../json-shapes.js';
import { withRedis } from '../redis-client.js';
import { renderTable } from '../render/table.js';

// Python writes NaN and the infinities as 'nan', 'inf' and '-inf' (the python-text key scheme
// hashes exactly that text), so a row copied from Python's output must be accepted as it is.
const PYTHON_SPECIALS: Readonly<Record<string, number>> = {
  nan: Number.NaN,
  '+nan': Number.NaN,
  '-nan': Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
};

/** Parses one feature as a number, accepting Python's 'nan', 'inf' and '-inf' (any case). */
export function parseFeature(text: string): number {
  const special = PYTHON_SPECIALS[text.trim().toLowerCase()];
  if (special !== undefined) return special;
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new UsageError(`'${text}' is not a number (nan and inf are)`);
  return value;
}

/** `batuta predictions get MODEL 5.0 2.9 1.1 0.4` (or `--id ID`) `[--json]`: a consumer's lookup. */
export async function predictionsGet(
  config: CliConfig,
  model: string,
  features: string[],
  id: string | undefined,
  options: { json?: boolean } = {},
): Promise<number> {
  if (!id && features.length === 0) throw new UsageError('give the features (e.g. 5.0 2.9 1.1 0.4) or --id ID');
  const values = features.map(parseFeature);
  return withRedis(config, async (redis) => {
    // Routed as a consumer's lookup would be, but not counted: a person's probe is not traffic, and it
    // must not move a canary's figures or its sample-ratio check.
    const client = new PredictionClient(redis, { model, namespace: config.namespace, countAssignments: false });
    const result = await client.lookup(id ? { id } : values);
    const found = 'value' in result;
    const version = 'version' in result && result.version ? String(result.version) : null;
    if (options.json) {
      printJson(predictionsGetJson, {
        model,
        namespace: config.namespace,
        found,
        value: found ? String(result.value) : null,
        status: found ? String(result.status) : null,
        key: result.key ?? null,
        version,
      });
      return found ? 0 : 1;
    }
    if (found) {
      console.log(result.value);
      console.error(
        `(${result.status}; key ${result.key ?? '-'}${version ? `; version ${version}` : ''}; namespace ${config.namespace})`,
      );
      return 0;
    }
    console.error(`missing (key ${result.key ?? '-'}; namespace ${config.namespace})`);
    return 1;
  });
}

/** `batuta predictions rollback MODEL`. */
export async function predictionsRollback(config: CliConfig, model: string): Promise<number> {
  return withRedis(config, async (redis) => {
    const { from, to, skipped } = await rollback(redis, model, { namespace: config.namespace });
    console.log(`${model}: current ${from} → ${to}`);
    console.error(
      `(${from} is now marked bad${skipped.length > 0 ? `; skipped versions marked bad: ${skipped.join(', ')}` : ''})`,
    );
    return 0;
  });
}

/** `batuta predictions activate MODEL VERSION [--force]`. */
export async function predictionsActivate(
  config: CliConfig,
  model: string,
  version: string,
  force: boolean,
): Promise<number> {
  return withRedis(config, async (redis) => {
    const { previous } = await new PredictionSets(redis, { model, namespace: config.namespace }).activate(version, {
      force,
    });
    console.log(`${model}: current ${previous ?? '(none)'} → ${version}`);
    return 0;
  });
}

function describeGate(info: VersionInfo): string {
  if (!info.gate) return '-';
  if (info.gate.verdict === 'passed') return 'passed';
  return `FORCED: ${info.gate.reason ?? ''}`;
}

/** `batuta predictions versions MODEL`: every version, oldest first, with its rows, gate and marks. */
export async function predictionsVersions(config: CliConfig, model: string): Promise<number> {
  return withRedis(config, async (redis) => {
    const versions = await new PredictionSets(redis, { model, namespace: config.namespace }).versions();
    if (versions.length === 0) {
      console.error(`no versions of ${model} in namespace ${config.namespace}`);
      return 1;
    }
    const rows = versions.map((info) => [
      info.current ? '*' : ' ',
      info.version,
      info.status,
      String(info.rows),
      info.completedAtMs === undefined ? '-' : new Date(info.completedAtMs).toISOString(),
      describeGate(info),
      info.bad ? `BAD: ${info.bad}` : '',
    ]);
    console.log(renderTable([' ', 'VERSION', 'STATUS', 'ROWS', 'COMMITTED', 'GATE', 'MARK'], rows));
    return 0;
  });
}

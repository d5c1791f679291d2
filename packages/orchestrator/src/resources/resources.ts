// Pure arithmetic over ResourceSpec: what a task needs, what a worker has, what is left.
import type { ResourceSpec } from '@batuta/scheduler';
import { OrchestratorError } from '../errors.js';

/**
 * Results are rounded to 1e-9 so fractional cpu (0.1 + 0.2) adds and subtracts back without drift;
 * exact for magnitudes below ~9e6, far beyond any machine's cpu, memoryMb or gpu.
 */
const PRECISION = 1e9;

function round(value: number): number {
  return Math.round(value * PRECISION) / PRECISION;
}

/** No resources at all. */
export function zeroResources(): ResourceSpec {
  return { cpu: 0, memoryMb: 0, gpu: 0, custom: {} };
}

/** True when `need` fits in `free` on every dimension; a custom counter absent from `free` counts as 0. */
export function fits(need: ResourceSpec, free: ResourceSpec): boolean {
  if (need.cpu > free.cpu || need.memoryMb > free.memoryMb || need.gpu > free.gpu) return false;
  for (const name in need.custom) {
    const amount = need.custom[name]!;
    if (amount > 0 && amount > (free.custom[name] ?? 0)) return false;
  }
  return true;
}

/** `a + b` on every dimension (custom counters: the union of both, absent = 0). */
export function addResources(a: ResourceSpec, b: ResourceSpec): ResourceSpec {
  return combine(a, b, 1);
}

/** `a - b` on every dimension (custom counters: the union of both, absent = 0); may go negative. */
export function subtractResources(a: ResourceSpec, b: ResourceSpec): ResourceSpec {
  return combine(a, b, -1);
}

function combine(a: ResourceSpec, b: ResourceSpec, sign: 1 | -1): ResourceSpec {
  const custom: Record<string, number> = {};
  for (const name in a.custom) custom[name] = a.custom[name]!;
  for (const name in b.custom) custom[name] = round((custom[name] ?? 0) + sign * b.custom[name]!);
  return {
    cpu: round(a.cpu + sign * b.cpu),
    memoryMb: round(a.memoryMb + sign * b.memoryMb),
    gpu: round(a.gpu + sign * b.gpu),
    custom,
  };
}

/** True when both specs hold the same amounts (a custom counter absent on one side counts as 0). */
export function resourcesEqual(a: ResourceSpec, b: ResourceSpec): boolean {
  if (a.cpu !== b.cpu || a.memoryMb !== b.memoryMb || a.gpu !== b.gpu) return false;
  for (const name in a.custom) if (a.custom[name] !== (b.custom[name] ?? 0)) return false;
  for (const name in b.custom) if (b.custom[name] !== (a.custom[name] ?? 0)) return false;
  return true;
}

/** Each dimension's larger amount: the running peak of a series of specs. */
export function maxResources(a: ResourceSpec, b: ResourceSpec): ResourceSpec {
  const custom: Record<string, number> = { ...a.custom };
  for (const name in b.custom) custom[name] = Math.max(custom[name] ?? 0, b.custom[name]!);
  return {
    cpu: Math.max(a.cpu, b.cpu),
    memoryMb: Math.max(a.memoryMb, b.memoryMb),
    gpu: Math.max(a.gpu, b.gpu),
    custom,
  };
}

/** Each dimension's smaller amount (a custom counter absent on one side counts as 0, so it drops out). */
export function minResources(a: ResourceSpec, b: ResourceSpec): ResourceSpec {
  const custom: Record<string, number> = {};
  for (const name in a.custom) {
    const other = b.custom[name];
    if (other !== undefined) custom[name] = Math.min(a.custom[name]!, other);
  }
  return {
    cpu: Math.min(a.cpu, b.cpu),
    memoryMb: Math.min(a.memoryMb, b.memoryMb),
    gpu: Math.min(a.gpu, b.gpu),
    custom,
  };
}

/** `need` taken `times` times, on every dimension. */
export function scaleResources(need: ResourceSpec, times: number): ResourceSpec {
  const custom: Record<string, number> = {};
  for (const name in need.custom) custom[name] = round(need.custom[name]! * times);
  return { cpu: round(need.cpu * times), memoryMb: round(need.memoryMb * times), gpu: round(need.gpu * times), custom };
}

/** The first dimension that is negative, NaN or infinite, described; undefined when the spec is valid. */
export function invalidResourceDimension(spec: ResourceSpec): string | undefined {
  const check = (name: string, value: unknown): string | undefined =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0
      ? undefined
      : `${name}=${String(value)} (must be a finite number >= 0)`;
  const problem = check('cpu', spec.cpu) ?? check('memoryMb', spec.memoryMb) ?? check('gpu', spec.gpu);
  if (problem) return problem;
  for (const name in spec.custom) {
    const custom = check(name, spec.custom[name]);
    if (custom) return custom;
  }
  return undefined;
}

const BUILT_IN = new Set(['cpu', 'memoryMb', 'gpu']);
const COUNTER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const AMOUNT = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const CAPACITY_EXAMPLE = 'cpu=4,memoryMb=8192,gpu=1,licenses=2';

/**
 * Parses `cpu=4,memoryMb=8192,gpu=1,licenses=2` (the `--capacity` flag). Dimensions left out are 0;
 * names other than cpu, memoryMb and gpu are custom counters. Throws `OrchestratorError('BAD_CAPACITY')`.
 */
export function parseCapacity(text: string): ResourceSpec {
  const spec = zeroResources();
  const seen = new Set<string>();
  const fail = (why: string): never => {
    throw new OrchestratorError('BAD_CAPACITY', `bad capacity '${text}': ${why}; expected e.g. '${CAPACITY_EXAMPLE}'`);
  };
  if (text.trim() === '') fail('it is empty');
  for (const part of text.split(',')) {
    const entry = part.trim();
    if (entry === '') fail('it has an empty entry (a stray comma?)');
    const equals = entry.indexOf('=');
    if (equals < 0) fail(`'${entry}' is not name=amount`);
    const name = entry.slice(0, equals).trim();
    const amountText = entry.slice(equals + 1).trim();
    if (!COUNTER_NAME.test(name)) {
      fail(`'${name}' is not a resource name (letters, digits, '_', '.', '-', starting with a letter or '_')`);
    }
    if (seen.has(name)) fail(`'${name}' is given twice`);
    seen.add(name);
    if (!AMOUNT.test(amountText)) fail(`'${amountText}' is not a non-negative number for ${name}`);
    const amount = Number(amountText);
    if (!Number.isFinite(amount)) fail(`'${amountText}' is too large for ${name}`);
    if (name === 'cpu') spec.cpu = amount;
    else if (name === 'memoryMb') spec.memoryMb = amount;
    else if (name === 'gpu') spec.gpu = amount;
    else spec.custom[name] = amount;
  }
  return spec;
}

/** `cpu=4,memoryMb=8192,gpu=1,licenses=2`: what `parseCapacity` reads; custom counters sorted by name. */
export function formatResources(spec: ResourceSpec): string {
  const parts = [`cpu=${spec.cpu}`, `memoryMb=${spec.memoryMb}`, `gpu=${spec.gpu}`];
  for (const name of Object.keys(spec.custom).sort()) {
    if (!BUILT_IN.has(name)) parts.push(`${name}=${spec.custom[name]}`);
  }
  return parts.join(',');
}

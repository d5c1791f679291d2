// A trigger form generated from a DAG's params: a select for an enum, a checkbox for a boolean, a number
// field (with its bounds) for numbers, a text field for strings and a JSON text area for arrays and
// objects; each field labelled and described. The server checks the conf again against the same params.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, type ParamSpec, type Run, triggerRun } from '../api.js';
import { Link, runPath } from '../router.js';

type Values = Record<string, string | boolean>;

function initialValue(spec: ParamSpec): string | boolean {
  if (spec.type === 'boolean') return spec.default === true;
  if (spec.enum) {
    const index = spec.enum.findIndex((option) => JSON.stringify(option) === JSON.stringify(spec.default));
    return String(Math.max(0, index));
  }
  if (spec.default === undefined) return '';
  if (spec.type === 'array' || spec.type === 'object') return JSON.stringify(spec.default, null, 2);
  return String(spec.default);
}

/** The conf the form's values stand for, or the name of the field that does not parse. */
function confOf(
  params: Record<string, ParamSpec>,
  values: Values,
): { conf: Record<string, unknown> } | { badField: string } {
  const conf: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(params)) {
    const value = values[name];
    if (spec.type === 'boolean') {
      conf[name] = value === true;
      continue;
    }
    if (spec.enum) {
      conf[name] = spec.enum[Number(value)];
      continue;
    }
    const text = String(value ?? '');
    if (text === '') continue; // left out: the server fills the default or says it is required
    if (spec.type === 'integer' || spec.type === 'number') {
      const number = Number(text);
      if (Number.isNaN(number)) return { badField: name };
      conf[name] = number;
    } else if (spec.type === 'array' || spec.type === 'object') {
      try {
        conf[name] = JSON.parse(text);
      } catch {
        return { badField: name };
      }
    } else {
      conf[name] = text;
    }
  }
  return { conf };
}

export function TriggerForm(props: {
  dagId: string;
  params: Record<string, ParamSpec>;
  onTriggered: (run: Run) => void;
}) {
  const entries = Object.entries(props.params);
  const [values, setValues] = useState<Values>(() =>
    Object.fromEntries(entries.map(([name, spec]) => [name, initialValue(spec)])),
  );
  const [error, setError] = useState<{ message: string; fields: Record<string, string> }>();
  const [queued, setQueued] = useState<Run>();
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string | boolean) => setValues((current) => ({ ...current, [name]: value }));

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setQueued(undefined);
    const parsed = confOf(props.params, values);
    if ('badField' in parsed) {
      const field = parsed.badField;
      setError({ message: `${field}: not a valid value`, fields: { [field]: 'not a valid value' } });
      return;
    }
    setBusy(true);
    try {
      const run = await triggerRun(props.dagId, parsed.conf);
      setQueued(run);
      props.onTriggered(run);
    } catch (failure) {
      const fields: Record<string, string> = {};
      if (failure instanceof ApiError)
        for (const f of failure.fields) fields[f.field.replace(/^body\.conf\.?/, '')] = f.message;
      setError({ message: failure instanceof Error ? failure.message : String(failure), fields });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="trigger" onSubmit={submit} aria-labelledby="trigger-title">
      <h2 id="trigger-title">Trigger a run</h2>
      {entries.length === 0 && <p class="muted">This DAG takes no params.</p>}
      {entries.map(([name, spec]) => {
        const id = `param-${name}`;
        const hint = spec.description ? `${id}-hint` : undefined;
        const fieldError = error?.fields[name];
        const common = {
          id,
          name,
          'aria-describedby': [hint, fieldError ? `${id}-error` : undefined].filter(Boolean).join(' ') || undefined,
          'aria-invalid': fieldError ? true : undefined,
        };
        let control: JSX.Element;
        if (spec.type === 'boolean') {
          control = (
            <input
              {...common}
              type="checkbox"
              checked={values[name] === true}
              onChange={(e) => set(name, e.currentTarget.checked)}
            />
          );
        } else if (spec.enum) {
          control = (
            <select {...common} value={String(values[name])} onChange={(e) => set(name, e.currentTarget.value)}>
              {spec.enum.map((option, index) => (
                <option key={JSON.stringify(option)} value={String(index)}>
                  {typeof option === 'string' ? option : JSON.stringify(option)}
                </option>
              ))}
            </select>
          );
        } else if (spec.type === 'array' || spec.type === 'object') {
          control = (
            <textarea
              {...common}
              rows={3}
              required={spec.required === true && spec.default === undefined}
              value={String(values[name])}
              onInput={(e) => set(name, e.currentTarget.value)}
            />
          );
        } else if (spec.type === 'integer' || spec.type === 'number') {
          control = (
            <input
              {...common}
              type="number"
              step={spec.type === 'integer' ? 1 : 'any'}
              min={spec.minimum}
              max={spec.maximum}
              required={spec.required === true && spec.default === undefined}
              value={String(values[name])}
              onInput={(e) => set(name, e.currentTarget.value)}
            />
          );
        } else {
          control = (
            <input
              {...common}
              type="text"
              required={spec.required === true && spec.default === undefined}
              value={String(values[name])}
              onInput={(e) => set(name, e.currentTarget.value)}
            />
          );
        }
        return (
          <div class={`field field-${spec.type}`} key={name}>
            <label for={id}>
              {name} <span class="muted">({spec.type})</span>
            </label>
            {control}
            {spec.description && (
              <small id={hint} class="muted">
                {spec.description}
              </small>
            )}
            {fieldError && (
              <small id={`${id}-error`} class="error">
                {fieldError}
              </small>
            )}
          </div>
        );
      })}
      {error && (
        <p role="alert" class="error">
          {error.message}
        </p>
      )}
      {queued && (
        <p role="status" class="ok">
          Run <Link href={runPath(queued.runId)}>{queued.runId}</Link> is {queued.state}.
        </p>
      )}
      <button type="submit" disabled={busy} data-testid="trigger-button">
        {busy ? 'Triggering…' : 'Trigger'}
      </button>
    </form>
  );
}

// docs/api.md's generated part: the routes of an OpenAPI 3.1 document (the one the app serves at
// /api/openapi.json) as Markdown — method and path, what a success returns, the path and query
// parameters, the body's fields and every documented status. Pure: a test compares it with the file.

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface Operation {
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string }>;
}

export interface OpenApiDocument {
  info?: { title?: string; description?: string };
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Markdown for every route of the document, in path order. */
export function apiReference(document: OpenApiDocument): string {
  const schemas = document.components?.schemas ?? {};
  const resolve = (schema: Schema | undefined): Schema | undefined =>
    schema?.$ref ? schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
  const out: string[] = [];
  for (const path of Object.keys(document.paths ?? {}).sort()) {
    const item = document.paths?.[path] ?? {};
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const responses = operation.responses ?? {};
      const success = Object.keys(responses).find((status) => status.startsWith('2'));
      out.push(`### \`${method.toUpperCase()} ${path}\``, '');
      const what = operation.summary ?? operation.description ?? (success && responses[success]?.description);
      if (what) out.push(`${oneLine(what)}.`.replace(/\.\.$/, '.'), '');
      const parameters = operation.parameters ?? [];
      if (parameters.length > 0) {
        out.push('| parameter | in | type | |', '|---|---|---|---|');
        for (const parameter of parameters) {
          out.push(
            `| \`${parameter.name}\`${parameter.required ? '' : '?'} | ${parameter.in} | ${typeOf(resolve(parameter.schema), resolve)} | ${oneLine(parameter.description ?? resolve(parameter.schema)?.description ?? '')} |`,
          );
        }
        out.push('');
      }
      const [contentType, body] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [];
      if (contentType) {
        const named = body?.schema?.$ref?.replace('#/components/schemas/', '');
        const schema = resolve(body?.schema);
        out.push(`Body (\`${contentType}\`${named ? `, \`${named}\`` : ''}):`, '');
        const fields = Object.entries(schema?.properties ?? {});
        if (fields.length > 0) {
          out.push('| field | type | |', '|---|---|---|');
          for (const [name, field] of fields) {
            const required = schema?.required?.includes(name) ?? false;
            out.push(
              `| \`${name}\`${required ? '' : '?'} | ${typeOf(resolve(field), resolve)} | ${oneLine(resolve(field)?.description ?? '')} |`,
            );
          }
          out.push('');
        }
      }
      const statuses = Object.entries(responses).map(
        ([status, response]) => `\`${status}\` ${oneLine(response.description ?? '')}`,
      );
      out.push(`Answers: ${statuses.join(' · ')}.`.replace(/\.\.$/, '.'), '');
    }
  }
  return out.join('\n');
}

function typeOf(schema: Schema | undefined, resolve: (s: Schema | undefined) => Schema | undefined): string {
  if (!schema) return 'any';
  if (schema.enum) return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' \\| ');
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return variants.map((variant) => typeOf(resolve(variant), resolve)).join(' \\| ');
  const type = Array.isArray(schema.type) ? schema.type.join(' \\| ') : (schema.type ?? 'object');
  if (type === 'array') return `${typeOf(resolve(schema.items), resolve)}[]`;
  const bounds = [
    schema.minimum !== undefined ? `≥ ${schema.minimum}` : '',
    schema.maximum !== undefined ? `≤ ${schema.maximum}` : '',
    schema.default !== undefined ? `default ${JSON.stringify(schema.default)}` : '',
  ].filter(Boolean);
  return bounds.length > 0 ? `${type} (${bounds.join(', ')})` : type;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

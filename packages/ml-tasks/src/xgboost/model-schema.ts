// The subset of XGBoost's JSON model format (`Booster.save_model('x.json')`, versions 1.x to 3.x)
// that prediction needs. Unknown fields pass through; numbers XGBoost writes as strings are coerced.
import { z } from 'zod';

const numericString = z.union([z.string(), z.number()]).transform((value, context) => {
  const parsed = typeof value === 'number' ? value : Number(value);
  if (value === '' || Number.isNaN(parsed)) {
    context.addIssue({ code: 'custom', message: `expected a number, got '${String(value)}'` });
    return z.NEVER;
  }
  return parsed;
});

// `base_score` is a string ('5E-1'); from XGBoost 3.1 it may be a vector written as '[2.5E-1,5E-1]'.
const baseScore = z.union([z.string(), z.number(), z.array(z.number())]).transform((value, context) => {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value;
  const text = value.trim();
  const parts = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1).split(',') : [text];
  const numbers = parts.map((part) => Number(part.trim()));
  if (numbers.length === 0 || numbers.some((n, i) => Number.isNaN(n) || parts[i]?.trim() === '')) {
    context.addIssue({ code: 'custom', message: `base_score '${value}' is neither a number nor a list of numbers` });
    return z.NEVER;
  }
  return numbers;
});

// `default_left` is a list of 0/1 integers in recent writers and of booleans in older ones.
const flag = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((value) => value === true || value === 1);

/** One tree in XGBoost's JSON layout: parallel arrays indexed by node id; a leaf has left child -1. */
export const xgboostTreeSchema = z.object({
  left_children: z.array(z.number().int()),
  right_children: z.array(z.number().int()),
  split_indices: z.array(z.number().int().min(0)),
  split_conditions: z.array(z.number()),
  default_left: z.array(flag),
  split_type: z.array(z.number().int()).optional(),
  categories_nodes: z.array(z.number().int()).optional(),
  tree_param: z
    .object({
      num_nodes: numericString,
      size_leaf_vector: numericString.optional(),
    })
    .loose(),
});

const gbtreeModel = z.object({
  gbtree_model_param: z.object({ num_trees: numericString, num_parallel_tree: numericString.optional() }).loose(),
  tree_info: z.array(z.number().int().min(0)),
  trees: z.array(xgboostTreeSchema),
});

/** A whole model file: learner parameters, objective and the tree ensemble (gbtree or dart). */
export const xgboostModelSchema = z.object({
  version: z.array(z.number().int()).optional(),
  learner: z.object({
    feature_names: z.array(z.string()).optional(),
    learner_model_param: z
      .object({
        base_score: baseScore,
        num_class: numericString,
        num_feature: numericString,
        num_target: numericString.optional(),
      })
      .loose(),
    objective: z.object({ name: z.string() }).loose(),
    gradient_booster: z.discriminatedUnion('name', [
      z.object({ name: z.literal('gbtree'), model: gbtreeModel }).loose(),
      z
        .object({
          name: z.literal('dart'),
          gbtree: z.object({ model: gbtreeModel }).loose(),
          weight_drop: z.array(z.number()),
        })
        .loose(),
      z.object({ name: z.literal('gblinear') }).loose(),
    ]),
  }),
});

/** The parsed JSON document, numbers coerced. */
export type XgboostModelDocument = z.infer<typeof xgboostModelSchema>;
/** One parsed tree. */
export type XgboostTreeDocument = z.infer<typeof xgboostTreeSchema>;

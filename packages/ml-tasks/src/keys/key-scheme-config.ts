// The key scheme a prediction set is written with, as configured in a task's `with:` block and
// recorded in the set's metadata so that consumers hash exactly as the ingest did.
import { z } from 'zod';

/** The key schemes: the original's text key, the safer fixed-point key, or an entity-id column. */
export const keySchemeSchema = z.discriminatedUnion('scheme', [
  z.object({ scheme: z.literal('python-text') }).strict(),
  z.object({ scheme: z.literal('fixed-point'), decimals: z.number().int().min(0).max(15) }).strict(),
  z.object({ scheme: z.literal('entity-id'), column: z.union([z.number().int().min(0), z.string().min(1)]) }).strict(),
]);

/** A key scheme, as written in a task's `with:` block and stored in a prediction set's metadata. */
export type KeyScheme = z.infer<typeof keySchemeSchema>;

/** The original example's scheme, the default. */
export const PYTHON_TEXT_SCHEME: KeyScheme = { scheme: 'python-text' };

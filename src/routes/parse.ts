// Parse a body or query with a zod schema; a bad one becomes a 400 naming the field.
import type { z } from 'zod';
import { validation } from '../errors.js';

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw validation(r.error);
  return r.data;
}

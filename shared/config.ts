import * as z from 'zod/mini';

/** The process environment, or a record of variables standing in for it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A variable that must be set (an empty value counts as unset). */
export const requiredVariable = z.string({ error: 'is not set' });

/** An http or https URL, such as a custom domain or an endpoint override. */
export const urlVariable = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });

/**
 * A number of `unit` (`seconds`, `hours`): more than 0 when `positive`, else 0 or more. Parsed
 * to a number; text that is not one (`30s`, `NaN`, `Infinity`) is refused, not read as NaN.
 */
export function numberVariable(unit: string, { positive }: { positive: boolean }) {
  const fits = (text: string) => {
    const value = Number(text);
    return text.trim() !== '' && Number.isFinite(value) && (positive ? value > 0 : value >= 0);
  };
  const error = positive ? `must be a positive number of ${unit}` : `must be a number of ${unit}, 0 or more`;
  return z.pipe(z.string().check(z.refine(fits, { error })), z.transform(Number));
}

/**
 * Reads the variables `schema` names from `env` and parses them; an empty value counts as unset.
 * A function's config.ts calls it once at module load, so a bad environment fails the cold start.
 * Throws an Error naming every variable that is missing or wrong, and what is wrong with it.
 */
export function parseEnvironment<Schema extends z.ZodMiniObject>(
  schema: Schema,
  env: Environment,
): z.output<Schema> {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(schema.shape)) input[name] = env[name] || undefined;
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    const value = input[name];
    return `${name} ${issue.message}${value === undefined ? '' : ` (got "${value}")`}`;
  });
  throw new Error(`invalid environment: ${problems.join('; ')}`);
}

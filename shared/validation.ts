import * as z from 'zod/mini';
import { ValidationError } from './errors';

// zod's regex and maximum-length rules as plain checks. Nothing else in the admin function uses
// z.regex or z.maxLength, and their check classes would add about 1 KB to its bundle; these give
// the same verdicts, issues and messages (a default message is zod's, as before).

/** A string matching `pattern` (z.regex). */
export function matches(pattern: RegExp, message: string) {
  return z.check<string>((payload) => {
    if (!pattern.test(payload.value)) {
      payload.issues.push({
        code: 'invalid_format',
        format: 'regex',
        pattern: pattern.source,
        input: payload.value,
        message,
      });
    }
  });
}

/** At most `maximum` characters of a string or items of an array (z.maxLength). */
export function atMost(maximum: number, message?: string) {
  return z.check<string | unknown[]>((payload) => {
    if (payload.value.length > maximum) {
      payload.issues.push({
        code: 'too_big',
        origin: typeof payload.value === 'string' ? 'string' : 'array',
        maximum,
        inclusive: true,
        input: payload.value,
        // Without a message, zod words the issue as for z.maxLength.
        message,
      });
    }
  });
}

/** One of `values` (z.enum): the same verdicts and issues, typed as the values' union. */
export function oneOf<const T extends readonly string[]>(values: T): z.ZodMiniType<T[number]> {
  const schema = z.unknown().check(
    z.check((payload) => {
      if (!values.includes(payload.value as string)) {
        payload.issues.push({ code: 'invalid_value', values: [...values], input: payload.value });
      }
    }),
  );
  return schema as z.ZodMiniType<T[number]>;
}

/** How `describeIssues` words the issues of one caller. */
export interface IssueWording {
  /** What an issue with no path is said to be at; `(top level)` unless given. */
  topLevel?: string;
  /** At most this many issues, for a message that must stay short. */
  limit?: number;
}

/** Each zod issue as `path: message`; unknown keys as `unknown key "k" at path`. */
export function listIssues(
  issues: readonly z.core.$ZodIssue[],
  { topLevel = '(top level)', limit }: IssueWording = {},
): string[] {
  return issues.slice(0, limit).map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : topLevel;
    if (issue.code === 'unrecognized_keys') {
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} at ${where}`;
    }
    return `${where}: ${issue.message}`;
  });
}

/** The issues as `listIssues` words them, in one line joined by `; `. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], wording?: IssueWording): string {
  return listIssues(issues, wording).join('; ');
}

/**
 * Parses with a zod schema. Throws one ValidationError, `invalid <what>: …`, that names each
 * problem.
 */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(`invalid ${what}: ${describeIssues(result.error.issues)}`);
}

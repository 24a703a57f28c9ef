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
  /**
   * Quote a wrong value when short (`got "yes"`), for input the caller wrote. Without, only its
   * kind is said (`got a string`): input may hold secrets (credentials) or long text (payloads).
   */
  values?: boolean;
}

/** zod's own message for every issue when no locale is loaded, as in zod/mini. */
const ZOD_DEFAULT_MESSAGE = 'Invalid input';

/**
 * Parses with a zod schema, keeping the input in each issue so that `listIssues` can say what was
 * given: the way to parse whatever a message is made of.
 */
export function safeParse<S extends z.ZodMiniType>(schema: S, value: unknown) {
  return schema.safeParse(value, { reportInput: true });
}

/**
 * Each zod issue as `path: expected …, got …` (the got part when the issue carries its input, as
 * those of `safeParse` do; the schema's own message, when it has one, for the expected part);
 * unknown keys as `unknown key "k" at path`.
 */
export function listIssues(issues: readonly z.core.$ZodIssue[], wording: IssueWording = {}): string[] {
  return issues.slice(0, wording.limit).map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : (wording.topLevel ?? '(top level)');
    if (issue.code === 'unrecognized_keys') {
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} at ${where}`;
    }
    // A union every branch of which failed, one inside (a list with a bad item): that item.
    const inner =
      issue.code === 'invalid_union' ? issue.errors.filter((branch) => branch[0]?.path.length) : [];
    const item = inner.length === 1 && issue.message === ZOD_DEFAULT_MESSAGE ? inner[0]?.[0] : undefined;
    if (item) return listIssues([{ ...item, path: [...issue.path, ...item.path] }], wording)[0] as string;
    return `${where}: ${wordIssue(issue, wording.values)}`;
  });
}

/** The issues as `listIssues` words them, in one line joined by `; `. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], wording?: IssueWording): string {
  return listIssues(issues, wording).join('; ');
}

/**
 * Parses with a zod schema. Throws one ValidationError, `invalid <what>: …`, that names each
 * problem with the value given (`invalid settings: onlyBuildPullRequests: expected a boolean,
 * got "yes"`): for input the caller wrote, never for secrets.
 */
export function validate<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = safeParse(schema, value);
  if (result.success) return result.data;
  throw new ValidationError(`invalid ${what}: ${describeIssues(result.error.issues, { values: true })}`);
}

/** `expected …, got …` for one issue. */
function wordIssue(issue: z.core.$ZodIssue, values = false): string {
  const input: unknown = issue.input;
  let got = 'input' in issue ? shown(input, values) : undefined;
  let expected = '';
  switch (issue.code) {
    case 'invalid_type':
      expected = kind(issue.expected);
      break;
    case 'invalid_union':
      expected = issue.errors
        .map((branch) => kind(String((branch[0] as { expected?: string })?.expected)))
        .join(' or ');
      break;
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const limit = big ? issue.maximum : issue.minimum;
      const unit = issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : '';
      expected =
        !big && limit === 1 && unit
          ? `a non-empty ${issue.origin}`
          : `${big ? 'at most' : 'at least'} ${limit}${unit}`;
      if (typeof input === 'string' || Array.isArray(input)) {
        got = input.length ? `${input.length}${unit}` : `an empty ${issue.origin}`;
      }
      break;
    }
    default:
      // An enum's or a format's value may be a secret (a token): shown only when values are.
      if (issue.code === 'invalid_value')
        expected = `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      if (!values) got = undefined;
  }
  const own = issue.message === ZOD_DEFAULT_MESSAGE ? expected && `expected ${expected}` : issue.message;
  return `${own || ZOD_DEFAULT_MESSAGE}${got ? `, got ${got}` : ''}`;
}

/** `a boolean`, `an object`. */
function kind(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** A short scalar itself when values are shown, else what kind of value it is. */
function shown(input: unknown, values: boolean): string {
  if (input === undefined) return 'nothing';
  if (Array.isArray(input)) return `an array of ${input.length} items`;
  if (input === null || (values && typeof input !== 'object')) {
    return JSON.stringify(typeof input === 'string' && input.length > 60 ? `${input.slice(0, 60)}…` : input);
  }
  return kind(typeof input);
}

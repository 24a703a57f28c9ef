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
   * How a wrong value is shown: `type` (the default) says only what it is (`got a string`), for
   * input that may hold secrets or long text; `value` quotes a short one (`got "yes"`).
   */
  given?: 'type' | 'value';
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
 * those of `safeParse` do); unknown keys as `unknown key "k" at path`.
 */
export function listIssues(
  issues: readonly z.core.$ZodIssue[],
  { topLevel = '(top level)', limit, given = 'type' }: IssueWording = {},
): string[] {
  return issues.slice(0, limit).map((issue) => {
    const where = issue.path.length ? issue.path.map(String).join('.') : topLevel;
    if (issue.code === 'unrecognized_keys') {
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} at ${where}`;
    }
    const nested = closestBranch(issue);
    if (nested) return listIssues([nested], { topLevel, given })[0] as string;
    return `${where}: ${wordIssue(issue, given)}`;
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
  throw new ValidationError(`invalid ${what}: ${describeIssues(result.error.issues, { given: 'value' })}`);
}

/** `expected …, got …` for one issue: its own message when the schema gave one, else from its code. */
function wordIssue(issue: z.core.$ZodIssue, given: 'type' | 'value'): string {
  const custom = issue.message && issue.message !== ZOD_DEFAULT_MESSAGE ? issue.message : undefined;
  const input: unknown = (issue as { input?: unknown }).input;
  const has = 'input' in issue;
  const got = (text: string | undefined) => (has && text !== undefined ? `, got ${text}` : '');
  switch (issue.code) {
    case 'invalid_type':
      return `${custom ?? `expected ${typeName(issue.expected)}`}${got(shownValue(input, given))}`;
    case 'invalid_union': {
      const expected = [...new Set(issue.errors.flatMap((branch) => branch.map(expectedType)))];
      const wanted = expected.includes(undefined) ? undefined : expected.join(' or ');
      return `${custom ?? (wanted ? `expected ${wanted}` : 'matches none of the accepted forms')}${got(shownValue(input, given))}`;
    }
    case 'invalid_value':
      return `${custom ?? `expected ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}${got(given === 'value' ? shownValue(input, given) : undefined)}`;
    case 'too_big':
    case 'too_small':
      return `${custom ?? `expected ${bound(issue)}`}${got(sizeOf(input, issue.origin))}`;
    case 'invalid_format':
      return `${custom ?? `expected ${issue.format}`}${got(given === 'value' ? shownValue(input, given) : undefined)}`;
    default:
      return custom ?? ZOD_DEFAULT_MESSAGE;
  }
}

/**
 * For a union whose every branch failed: the issue of the branch that took the value's type and
 * failed inside it (`skipMarkers.0: expected …`), when exactly one did; else undefined.
 */
function closestBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue | undefined {
  if (issue.code !== 'invalid_union' || (issue.message && issue.message !== ZOD_DEFAULT_MESSAGE)) {
    return undefined;
  }
  const deeper = issue.errors.filter((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
  const [first] = deeper.length === 1 ? (deeper[0] ?? []) : [];
  return first ? { ...first, path: [...issue.path, ...first.path] } : undefined;
}

/** What a union branch that failed on the type itself expected, else undefined. */
function expectedType(issue: z.core.$ZodIssue): string | undefined {
  return issue.code === 'invalid_type' && issue.path.length === 0 ? typeName(issue.expected) : undefined;
}

function typeName(expected: string): string {
  if (expected === 'int') return 'a whole number';
  if (expected === 'null' || expected === 'undefined') return expected;
  return `${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
}

function bound(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall): string {
  const big = issue.code === 'too_big';
  const limit = Number(big ? issue.maximum : issue.minimum);
  const inclusive = issue.inclusive !== false;
  const relation = big ? (inclusive ? 'at most' : 'less than') : inclusive ? 'at least' : 'more than';
  if (issue.origin === 'string') {
    return !big && limit === 1 && inclusive ? 'a non-empty string' : `${relation} ${limit} characters`;
  }
  if (issue.origin === 'array' || issue.origin === 'set') {
    return !big && limit === 1 && inclusive ? 'a non-empty list' : `${relation} ${limit} items`;
  }
  return `${relation} ${limit}`;
}

/** The size a too_big or too_small issue is about: a length, a count, or the number itself. */
function sizeOf(input: unknown, origin: string): string | undefined {
  if (typeof input === 'string' && origin === 'string') {
    return input.length === 0 ? 'an empty string' : `${input.length} characters`;
  }
  if (Array.isArray(input)) return input.length === 0 ? 'an empty array' : `${plural(input.length, 'item')}`;
  if (typeof input === 'number' || typeof input === 'bigint') return String(input);
  return undefined;
}

const MAX_SHOWN = 60;

/** What a value is (`a string`, `an array of 2 items`), or a short scalar itself when `value` is asked. */
function shownValue(input: unknown, given: 'type' | 'value'): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input))
    return input.length === 0 ? 'an empty array' : `an array of ${plural(input.length, 'item')}`;
  if (given === 'value') {
    if (typeof input === 'string') {
      return JSON.stringify(input.length > MAX_SHOWN ? `${input.slice(0, MAX_SHOWN)}…` : input);
    }
    if (typeof input === 'number' || typeof input === 'boolean') return String(input);
  }
  return typeName(typeof input);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { atMost, describeIssues, listIssues, matches, oneOf } from '../../shared/validation';

/** The issues a schema reports, as the admin API words them. */
const issues = (schema: z.ZodMiniType, value: unknown) =>
  schema.safeParse(value).error?.issues.map(({ code, path, message }) => ({ code, path, message }));

describe('plain checks with zod’s rules', () => {
  it('matches: the verdicts and messages of z.regex', () => {
    const pattern = /^[a-z]{2,4}$/;
    const ours = z.object({ name: z.string().check(matches(pattern, 'must be 2 to 4 letters')) });
    const zods = z.object({ name: z.string().check(z.regex(pattern, 'must be 2 to 4 letters')) });
    for (const name of ['ab', 'abcd', 'a', 'abcde', 'AB', '', 'ab\n']) {
      expect(issues(ours, { name }), name).toEqual(issues(zods, { name }));
    }
    expect(issues(ours, { name: 'a' })).toEqual([
      { code: 'invalid_format', path: ['name'], message: 'must be 2 to 4 letters' },
    ]);
  });

  it('atMost: the verdicts and messages of z.maxLength, for strings and arrays', () => {
    const cases: Array<[z.ZodMiniType, z.ZodMiniType, unknown[]]> = [
      [z.string().check(atMost(3)), z.string().check(z.maxLength(3)), ['', 'abc', 'abcd']],
      [
        z.array(z.string()).check(atMost(2, 'at most 2')),
        z.array(z.string()).check(z.maxLength(2, 'at most 2')),
        [[], ['a', 'b'], ['a', 'b', 'c']],
      ],
    ];
    for (const [ours, zods, values] of cases) {
      for (const value of values) expect(issues(ours, value), String(value)).toEqual(issues(zods, value));
    }
    expect(issues(z.string().check(atMost(3)), 'abcd')).toEqual([
      { code: 'too_big', path: [], message: expect.any(String) },
    ]);
  });

  it('oneOf: the verdicts and issues of z.enum, for any input', () => {
    const ours = z.object({ kind: oneOf(['api-token', 'access-token']) });
    const zods = z.object({ kind: z.enum(['api-token', 'access-token']) });
    for (const kind of [
      'api-token',
      'access-token',
      'app-password',
      '',
      42,
      null,
      undefined,
      ['api-token'],
    ]) {
      expect(ours.safeParse({ kind }).success, String(kind)).toBe(zods.safeParse({ kind }).success);
      expect(issues(ours, { kind }), String(kind)).toEqual(issues(zods, { kind }));
    }
    expect(issues(ours, {})).toEqual(issues(zods, {}));
    expect(ours.parse({ kind: 'access-token', more: 1 })).toEqual({ kind: 'access-token' });
  });

  it('run after the type check, like zod’s own checks', () => {
    const ours = z.string().check(matches(/^a$/, 'must be a'), atMost(1));
    expect(issues(ours, 5)).toEqual(issues(z.string().check(z.regex(/^a$/, 'must be a')), 5));
  });
});

describe('wording zod issues', () => {
  const text = z.string({ error: 'must be text' });
  const Schema = z.strictObject({ name: text, tags: z.array(text) }, { error: 'must be an object' });
  const failure = (value: unknown) => {
    const result = Schema.safeParse(value);
    if (result.success) throw new Error('expected a failure');
    return result.error.issues;
  };

  it('names each issue by its path, an unknown key by its parent, and the top level as asked', () => {
    const issues = failure({ name: 1, tags: ['a', 2], extra: true, more: 1 });

    expect(describeIssues(issues)).toBe(
      'name: must be text; tags.1: must be text; unknown keys "extra", "more" at (top level)',
    );
    expect(listIssues(failure('x'), { topLevel: 'body' })).toEqual(['body: must be an object']);
  });

  it('keeps only the first issues when given a limit', () => {
    const issues = failure({ name: 1, tags: [2] });

    expect(describeIssues(issues, { limit: 1 })).toBe('name: must be text');
  });
});

import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { ProjectSettingsSchema } from '../../shared/domain/settings';
import { ValidationError } from '../../shared/errors';
import {
  atMost,
  describeIssues,
  listIssues,
  matches,
  oneOf,
  safeParse,
  validate,
} from '../../shared/validation';

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

describe('saying what was expected and what was given', () => {
  const problems = (schema: z.ZodMiniType, value: unknown, shown?: 'value') => {
    const result = safeParse(schema, value);
    if (result.success) throw new Error('expected a failure');
    return listIssues(result.error.issues, { values: shown === 'value' });
  };

  it('names the setting, the value given and the type expected', () => {
    expect(problems(ProjectSettingsSchema, { onlyBuildPullRequests: 'yes' }, 'value')).toEqual([
      'onlyBuildPullRequests: expected a boolean, got "yes"',
    ]);
    expect(problems(ProjectSettingsSchema, { ignoreBranches: 'wip/*' }, 'value')).toEqual([
      'ignoreBranches: expected an array, got "wip/*"',
    ]);
    expect(problems(ProjectSettingsSchema, { tagPatterns: ['v*', ''] }, 'value')).toEqual([
      'tagPatterns.1: expected a non-empty string, got an empty string',
    ]);
  });

  it('lists the forms a union takes, or follows the one branch that took the type', () => {
    expect(problems(ProjectSettingsSchema, { skipMarkers: 'x' }, 'value')).toEqual([
      'skipMarkers: expected a boolean or an array, got "x"',
    ]);
    expect(problems(ProjectSettingsSchema, { skipMarkers: ['[skip]', 7] }, 'value')).toEqual([
      'skipMarkers.1: expected a string, got 7',
    ]);
  });

  it('says only what kind of value it was unless asked for the value, and never repeats a long one', () => {
    const Payload = z.object({ repository: z.object({ uuid: z.string() }) });
    expect(problems(Payload, { repository: 'acme/widgets' })).toEqual([
      'repository: expected an object, got a string',
    ]);
    expect(problems(Payload, { repository: { uuid: ['a', 'b'] } })).toEqual([
      'repository.uuid: expected a string, got an array of 2 items',
    ]);
    expect(problems(Payload, {})).toEqual(['repository: expected an object, got nothing']);
    const long = 'x'.repeat(500);
    expect(problems(z.object({ n: z.number() }), { n: long }, 'value')).toEqual([
      `n: expected a number, got "${'x'.repeat(60)}…"`,
    ]);
  });

  it('words bounds and enumerations, keeping a schema’s own message first', () => {
    const Schema = z.object({
      kind: oneOf(['a', 'b']),
      labels: z.array(z.string()).check(atMost(2, 'at most 2 labels')),
      name: z.string().check(atMost(3)),
      slug: z.string().check(matches(/^[a-z]+$/, 'must be lowercase letters')),
    });
    expect(
      problems(Schema, { kind: 'c', labels: ['1', '2', '3'], name: 'abcd', slug: 'A' }, 'value'),
    ).toEqual([
      'kind: expected one of "a", "b", got "c"',
      'labels: at most 2 labels, got 3 items',
      'name: expected at most 3 characters, got 4 characters',
      'slug: must be lowercase letters, got "A"',
    ]);
    // Values that may be secrets are not repeated unless asked for.
    expect(problems(Schema, { kind: 'c', labels: [], name: 'a', slug: 'S3cret' })).toEqual([
      'kind: expected one of "a", "b"',
      'slug: must be lowercase letters',
    ]);
  });

  it('throws one ValidationError from validate that quotes what was given', () => {
    expect(() => validate(ProjectSettingsSchema, { buildTags: 'no' }, 'settings')).toThrow(
      new ValidationError('invalid settings: buildTags: expected a boolean, got "no"'),
    );
  });
});

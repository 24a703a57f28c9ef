import * as z from 'zod/mini';

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

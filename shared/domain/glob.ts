const cache = new Map<string, RegExp>();

/**
 * Matches a ref name against a glob: `*` is any run of characters (slashes included, so the
 * default tag pattern `*` takes every tag and `release/*` takes `release/1.2/hotfix`), `?` is one
 * character, everything else is literal.
 */
export function matchesGlob(name: string, pattern: string): boolean {
  let regex = cache.get(pattern);
  if (!regex) {
    const source = pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`, 's');
    cache.set(pattern, regex);
  }
  return regex.test(name);
}

/** The first pattern the name matches, if any. */
export function firstMatch(name: string, patterns: readonly string[]): string | undefined {
  return patterns.find((pattern) => matchesGlob(name, pattern));
}

const cache = new Map<string, RegExp>();
const pathCache = new Map<string, RegExp>();

const literal = (ch: string) => ch.replace(/[.+^${}()|[\]\\/*?-]/g, '\\$&');

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
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : literal(ch)))
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

// Matches a file path (from the repository root, no leading slash) against a path glob (a line
// comment, as the patterns below would end a block comment):
// - `**` is any run of characters, slashes included; `**/` also matches no directory at all, so
//   `**/*.md` takes `README.md` and `docs/**` everything under `docs/`;
// - `*` is any run of characters within one path segment: `docs/*` takes `docs/a.md`, not
//   `docs/x/a.md`;
// - `?` is one character other than a slash; everything else is literal.
export function matchesPathGlob(path: string, pattern: string): boolean {
  let regex = pathCache.get(pattern);
  if (!regex) {
    let source = '';
    for (let i = 0; i < pattern.length; i += 1) {
      const ch = pattern[i] as string;
      if (ch === '*' && pattern[i + 1] === '*') {
        i += 1;
        while (pattern[i + 1] === '*') i += 1;
        if (pattern[i + 1] === '/') {
          i += 1;
          source += '(?:.*/)?';
        } else source += '.*';
      } else if (ch === '*') source += '[^/]*';
      else if (ch === '?') source += '[^/]';
      else source += literal(ch);
    }
    regex = new RegExp(`^${source}$`, 's');
    pathCache.set(pattern, regex);
  }
  return regex.test(path);
}

/** The first path pattern the path matches, if any. */
export function firstPathMatch(path: string, patterns: readonly string[]): string | undefined {
  return patterns.find((pattern) => matchesPathGlob(path, pattern));
}

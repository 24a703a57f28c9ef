import type { CloneUrls, Provider } from '../domain/events';

// Both platforms form clone URLs from the repository's name in one fixed shape:
// Cloud `git@bitbucket.org:{workspace}/{slug}.git` and `https://bitbucket.org/{workspace}/{slug}.git`;
// Data Center `ssh://git@{host}:{port}/{project key}/{slug}.git` and `{base URL}/scm/{project key}/{slug}.git`,
// the key in lower case (a personal project's is `~user`).

/** Bitbucket Cloud's clone URLs of `workspace/slug`. */
export function cloudCloneUrls(fullName: string): CloneUrls {
  return { ssh: `git@bitbucket.org:${fullName}.git`, https: `https://bitbucket.org/${fullName}.git` };
}

/**
 * The clone URLs Hookgate can tell without asking Bitbucket: Cloud's from the name, Data Center's
 * HTTPS one from the server root (its SSH host and port are the server's own).
 */
export function derivedCloneUrls(provider: Provider, fullName: string, baseUrl?: string): CloneUrls {
  if (provider === 'bitbucket-cloud') return cloudCloneUrls(fullName);
  const [key = '', slug = ''] = fullName.split('/');
  return baseUrl ? { https: `${baseUrl.replace(/\/+$/, '')}/scm/${key.toLowerCase()}/${slug}.git` } : {};
}

/**
 * An unroutable (`.invalid`) clone URL for a repository whose URLs are not known: the local stack
 * connects Data Center repositories from payloads without clone links, and every trigger needs one.
 */
export function placeholderCloneUrl(fullName: string): string {
  return `ssh://git@${PLACEHOLDER_HOST}/${fullName}.git`;
}

const PLACEHOLDER_HOST = 'clone-url-unknown.invalid';

/**
 * The clone URLs of a repository after a delivery named it `next.fullName`: each URL the delivery
 * carries, else the stored one with its `{key}/{slug}.git` end rewritten from the stored name to
 * the new one (Data Center payloads often carry no links). A stored URL that does not end with the
 * stored name cannot be rewritten and is dropped rather than left naming the old repository, and
 * the placeholder gives way to any URL the delivery carries; when none is left, the placeholder.
 */
export function cloneUrlsAfter(
  stored: { fullName: string; cloneUrls: CloneUrls },
  next: { fullName: string; cloneUrls: CloneUrls },
): CloneUrls {
  const urls: CloneUrls = {};
  const known = Boolean(next.cloneUrls.ssh || next.cloneUrls.https);
  for (const kind of ['ssh', 'https'] as const) {
    const before = stored.cloneUrls[kind];
    // A placeholder gives way to any real URL.
    const kept = known && before?.includes(`@${PLACEHOLDER_HOST}/`) ? undefined : before;
    const url = next.cloneUrls[kind] ?? renamed(kept, stored.fullName, next.fullName);
    if (url) urls[kind] = url;
  }
  return urls.ssh || urls.https ? urls : { ssh: placeholderCloneUrl(next.fullName) };
}

function renamed(url: string | undefined, from: string, to: string): string | undefined {
  if (!url || from === to) return url;
  const tail = `${from}.git`;
  const at = url.length - tail.length;
  // Cloud's SSH URL has `:` before the workspace, every other URL `/`.
  const separator = url[at - 1];
  if (at < 1 || (separator !== '/' && separator !== ':')) return undefined;
  if (url.slice(at).toLowerCase() !== tail.toLowerCase()) return undefined;
  const [fromKey = ''] = from.split('/');
  const [key = '', slug = ''] = to.split('/');
  // Data Center writes the project key in lower case in its links; keep the case the URL used.
  const sameCase = url.slice(at, at + fromKey.length) === fromKey;
  return `${url.slice(0, at)}${sameCase ? key : key.toLowerCase()}/${slug}.git`;
}

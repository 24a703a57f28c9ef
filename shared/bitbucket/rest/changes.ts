import * as z from 'zod/mini';
import type { ChangeRange } from '../../domain/path-filter';
import type { RepoRef } from './client';
import type { ProviderConnection } from './connection';
import type { RequestSpec } from './http';

/** Changed files listed at most: a range with more is "too large to list". */
export const MAX_CHANGED_FILES = 5_000;
/** Files asked for per page (Cloud's diffstat takes up to 5,000; DC caps `limit` at its own maximum). */
const PAGE_SIZE = 500;
/** Pages read at most, whatever their size, so a server that pages by one cannot hold a delivery. */
export const MAX_CHANGED_FILE_PAGES = 20;

/** The changed files of a range, old and new paths of renames both; or the range had too many. */
export type ChangedFiles = { paths: string[] } | { tooMany: true };

const CloudFileSchema = z.nullish(z.object({ path: z.string() }));
const CloudDiffstatPage = z.object({
  values: z.array(z.object({ old: CloudFileSchema, new: CloudFileSchema })),
  next: z.nullish(z.string()),
});

// DC serialises a path with its `components` and a `toString`, read as an own key only: a schema
// field named `toString` would find Object.prototype's on an answer without one.
const DcPathSchema = z.nullish(z.looseObject({ components: z.optional(z.array(z.string())) }));
const DcChangesPage = z.object({
  values: z.array(z.object({ path: DcPathSchema, srcPath: DcPathSchema })),
  isLastPage: z.boolean(),
  nextPageStart: z.nullish(z.number()),
});

/**
 * The files that differ between `range.head` and `range.base`: Cloud's diffstat
 * (`/diffstat/{head}..{base}`, the commit with the changes first; three-dot with `topic` when the
 * base is a branch), Data Center's `compare/changes?from={head}&to={base}` (what `from` has and
 * `to` has not). Stops with `tooMany` past `max` files or MAX_CHANGED_FILE_PAGES pages. Throws
 * what the client's requests throw.
 */
export async function listChangedFiles(
  client: ProviderConnection,
  ref: RepoRef,
  range: ChangeRange,
  max = MAX_CHANGED_FILES,
): Promise<ChangedFiles> {
  const { http, repoPath } = client.connection;
  const paths = new Set<string>();
  const add = (...found: Array<string | undefined>) => {
    for (const path of found) if (path) paths.add(path);
  };
  if (client.provider === 'bitbucket-cloud') {
    let next: RequestSpec | undefined = {
      path: `${repoPath(ref)}/diffstat/${encodeURIComponent(range.head)}..${encodeURIComponent(range.base)}`,
      query: { pagelen: PAGE_SIZE, topic: range.baseIsBranch },
    };
    for (let pages = 0; next; pages += 1) {
      if (pages === MAX_CHANGED_FILE_PAGES) return { tooMany: true };
      const page: z.output<typeof CloudDiffstatPage> = await http.json(next, CloudDiffstatPage);
      for (const stat of page.values) add(stat.old?.path, stat.new?.path);
      if (paths.size > max) return { tooMany: true };
      next = page.next ? { path: page.next } : undefined;
    }
    return { paths: [...paths] };
  }
  const pathOf = (path: z.output<typeof DcPathSchema>) => {
    if (path?.components?.length) return path.components.join('/');
    const text =
      path && Object.hasOwn(path, 'toString') ? (path as Record<string, unknown>).toString : undefined;
    return typeof text === 'string' ? text : undefined;
  };
  let start = 0;
  for (let pages = 0; pages < MAX_CHANGED_FILE_PAGES; pages += 1) {
    const page = await http.json(
      {
        path: `${repoPath(ref)}/compare/changes`,
        query: { from: range.head, to: range.base, start, limit: PAGE_SIZE },
      },
      DcChangesPage,
    );
    for (const change of page.values) add(pathOf(change.path), pathOf(change.srcPath));
    if (paths.size > max) return { tooMany: true };
    if (page.isLastPage || page.nextPageStart == null) return { paths: [...paths] };
    start = page.nextPageStart;
  }
  return { tooMany: true };
}

import { firstPathMatch } from './glob';
import type { ProjectSettings } from './settings';

/**
 * The commits whose changed files decide a build under `includePaths` / `excludePaths`: `head`
 * is the pushed commit or a pull request's source commit, `base` what it is compared with (the
 * ref's previous head, the destination's commit, or, for a new branch, the default branch, by
 * name: then `baseIsBranch`).
 */
export interface ChangeRange {
  head: string;
  base: string;
  baseIsBranch: boolean;
}

/** The changed files of a range, or why they are not known (the build then goes ahead). */
export type ChangedPaths = { paths: readonly string[] } | { unknown: string };

/** The key of a range in `RuleContext.changedPaths` (and in caches): `head..base`. */
export function rangeKey(range: ChangeRange): string {
  return `${range.head}..${range.base}`;
}

export interface PathFilters {
  include: readonly string[];
  exclude: readonly string[];
}

/** The path filters of the settings; none when neither list is set. */
export function pathFiltersOf(
  settings: Partial<Pick<ProjectSettings, 'includePaths' | 'excludePaths'>>,
): PathFilters | undefined {
  // Settings stored before these existed lack them.
  const include = settings.includePaths ?? [];
  const exclude = settings.excludePaths ?? [];
  return include.length || exclude.length ? { include, exclude } : undefined;
}

/** What the changed files say: build (with a note for the message), or skip (with the message). */
export type PathVerdict = { build: true; note: string } | { build: false; message: string };

/**
 * Whether a change with these files is built: a file counts when it matches an include pattern
 * (any file does when `includePaths` is empty) and no exclude pattern; one such file builds.
 * `label` names the change in messages (`branch "x"`, `pull request #3`).
 */
export function judgePaths(
  changed: ChangedPaths | undefined,
  filters: PathFilters,
  label: string,
): PathVerdict {
  if (!changed)
    return { build: true, note: 'path filters not applied: its changed files were not looked up' };
  if ('unknown' in changed) return { build: true, note: `path filters not applied: ${changed.unknown}` };
  const { include, exclude } = filters;
  for (const path of changed.paths) {
    const included = include.length ? firstPathMatch(path, include) : undefined;
    if (include.length && !included) continue;
    if (firstPathMatch(path, exclude)) continue;
    return {
      build: true,
      note: included
        ? `changed file "${path}" matches includePaths pattern "${included}"`
        : `changed file "${path}" matches none of excludePaths ${JSON.stringify(exclude)}`,
    };
  }
  const includes = `includePaths ${JSON.stringify(include)}`;
  const excludes = `excludePaths ${JSON.stringify(exclude)}`;
  const count = changed.paths.length;
  if (count === 0) {
    const patterns = [include.length ? includes : '', exclude.length ? excludes : ''].filter(Boolean);
    return { build: false, message: `${label} changes no file, so none passes ${patterns.join(' and ')}` };
  }
  const files = `${count} changed file${count === 1 ? '' : 's'}`;
  if (include.length && !changed.paths.some((path) => firstPathMatch(path, include))) {
    return { build: false, message: `none of the ${files} of ${label} matches ${includes}` };
  }
  return {
    build: false,
    message: include.length
      ? `every one of the ${files} of ${label} that matches ${includes} also matches ${excludes}`
      : `every one of the ${files} of ${label} matches ${excludes}`,
  };
}

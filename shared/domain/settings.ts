import * as z from 'zod/mini';

/** The skip markers honoured when `skipMarkers` is `true`. */
export const DEFAULT_SKIP_MARKERS = ['[ci skip]', '[skip ci]'] as const;

const Globs = z.array(z.string().check(z.minLength(1)));

/**
 * A project's build settings (DESIGN §3), each with its default. Unknown keys are refused so a
 * typo such as `onlyBuildPullRequest` never silently does nothing.
 */
export const ProjectSettingsSchema = z.strictObject({
  onlyBuildPullRequests: z._default(z.boolean(), false),
  buildForkedPullRequests: z._default(z.boolean(), false),
  passSecretsToForkedPullRequests: z._default(z.boolean(), false),
  alwaysBuildBranches: z._default(Globs, []),
  ignoreBranches: z._default(Globs, []),
  buildTags: z._default(z.boolean(), false),
  tagPatterns: z._default(Globs, ['*']),
  /** `true`: the default markers; `false`: none; a list: exactly those markers. */
  skipMarkers: z._default(z.union([z.boolean(), z.array(z.string().check(z.minLength(1)))]), true),
  buildDraftPullRequests: z._default(z.boolean(), true),
  /** Path globs (`**` crosses directories, `*` does not): build only when a changed file matches one. */
  includePaths: z._default(Globs, []),
  /** Path globs: changed files matching one do not count towards a build. */
  excludePaths: z._default(Globs, []),
});

export type ProjectSettings = z.output<typeof ProjectSettingsSchema>;

/** What each setting takes: yes or no, a list of globs or markers, or either (`skipMarkers`). */
export type SettingKind = 'boolean' | 'list' | 'boolean-or-list';

/** The kind of every setting, for input that is not JSON (`hookgate admin projects set --set`). */
export const SETTING_KINDS = {
  onlyBuildPullRequests: 'boolean',
  buildForkedPullRequests: 'boolean',
  passSecretsToForkedPullRequests: 'boolean',
  alwaysBuildBranches: 'list',
  ignoreBranches: 'list',
  buildTags: 'boolean',
  tagPatterns: 'list',
  skipMarkers: 'boolean-or-list',
  buildDraftPullRequests: 'boolean',
  includePaths: 'list',
  excludePaths: 'list',
} as const satisfies Record<keyof ProjectSettings, SettingKind>;
export type ProjectSettingsInput = z.input<typeof ProjectSettingsSchema>;

export const DEFAULT_SETTINGS: ProjectSettings = ProjectSettingsSchema.parse({});

/** The markers in force for these settings. */
export function skipMarkersOf(settings: Pick<ProjectSettings, 'skipMarkers'>): readonly string[] {
  if (settings.skipMarkers === true) return DEFAULT_SKIP_MARKERS;
  if (settings.skipMarkers === false) return [];
  return settings.skipMarkers;
}

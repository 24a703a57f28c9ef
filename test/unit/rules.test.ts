import { describe, expect, it } from 'vitest';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import type { Decision } from '../../shared/domain/decision';
import type { HookEvent, ManualBuildEvent, PullRequestEvent, PushEvent } from '../../shared/domain/events';
import { matchesPathGlob } from '../../shared/domain/glob';
import { type ChangedPaths, rangeKey } from '../../shared/domain/path-filter';
import { changeRangesOf, decide, type OpenPullRequest, type RuleContext } from '../../shared/domain/rules';
import { type ProjectSettingsInput, ProjectSettingsSchema } from '../../shared/domain/settings';
import { manualTriggerIdOf, triggerIdOf } from '../../shared/domain/trigger-id';
import { evaluateDelivery } from '../../shared/evaluate';
import { readFixtureJson } from '../support/fixtures';

/** A decision's trigger id, read whatever its action (only triggers have one). */
function idOf(decision: Decision): string | undefined {
  return 'triggerId' in decision ? decision.triggerId : undefined;
}

function event(file: string, eventKey: string, edit?: (payload: any) => void): HookEvent {
  const payload = readFixtureJson(file);
  edit?.(payload);
  return normaliseDelivery({ eventKey, body: payload });
}

interface RunOptions {
  settings?: ProjectSettingsInput;
  defaultBranch?: string;
  open?: OpenPullRequest[];
  changedPaths?: Map<string, ChangedPaths>;
}

function contextOf(options: RunOptions): RuleContext {
  return {
    defaultBranch: options.defaultBranch ?? 'main',
    settings: ProjectSettingsSchema.parse(options.settings ?? {}),
    state: { openPullRequests: options.open ?? [] },
    ...(options.changedPaths ? { changedPaths: options.changedPaths } : {}),
  };
}

function run(hook: HookEvent, options: RunOptions = {}): Decision[] {
  return decide(hook, contextOf(options));
}

function only(decisions: Decision[]): Decision {
  expect(decisions).toHaveLength(1);
  return decisions[0] as Decision;
}

const cloudBranchCreate = () => event('cloud/jenkins-bbsource__branch_created.json', 'repo:push'); // feature/test
const cloudMainUpdate = () => event('cloud/jenkins-bbsource__updatePayload.json', 'repo:push'); // main

describe('push rules', () => {
  it('skips a deleted branch and a deleted tag with ref-deleted', () => {
    const branch = only(run(event('cloud/drone-go-scm__push_branch_delete.json', 'repo:push')));
    expect(branch).toMatchObject({
      action: 'skip',
      reason: 'ref-deleted',
      ref: { type: 'branch', name: 'develop' },
    });
    const tag = only(run(event('server/jenkins-bbsource__tag_deleted.json', 'repo:refs_changed')));
    expect(tag).toMatchObject({
      action: 'skip',
      reason: 'ref-deleted',
      ref: { type: 'tag', name: 'simple-tag' },
    });
    expect(tag.commit).toBeUndefined();
  });

  it('skips a push whose head commit message carries a skip marker, even on the default branch', () => {
    const hook = event('cloud/jenkins-bbsource__updatePayload.json', 'repo:push', (p) => {
      p.push.changes[0].new.target.message = 'Fix typo [SKIP CI]\n';
    });
    expect(only(run(hook))).toMatchObject({ action: 'skip', reason: 'skip-marker' });
    expect(only(run(hook)).message).toContain('[skip ci]');
  });

  it('honours a custom skip-marker list and can turn markers off', () => {
    const hook = event('cloud/jenkins-bbsource__branch_created.json', 'repo:push', (p) => {
      p.push.changes[0].new.target.message = 'wip [no build]';
    });
    expect(only(run(hook, { settings: { skipMarkers: ['[no build]'] } })).reason).toBe('skip-marker');
    expect(only(run(hook)).reason).toBe('branch-push');
    const marked = event('cloud/jenkins-bbsource__branch_created.json', 'repo:push', (p) => {
      p.push.changes[0].new.target.message = '[ci skip] docs';
    });
    expect(only(run(marked, { settings: { skipMarkers: false } })).reason).toBe('branch-push');
  });

  it('skips tags unless buildTags is on and the name matches tagPatterns', () => {
    const hook = event('cloud/jenkins-bbsource__tag_created.json', 'repo:push'); // simple-tag
    expect(only(run(hook))).toMatchObject({ action: 'skip', reason: 'tags-disabled' });
    expect(only(run(hook, { settings: { buildTags: true } }))).toMatchObject({
      action: 'trigger',
      reason: 'tag-push',
      ref: { type: 'tag', name: 'simple-tag' },
      commit: { sha: '7ef5981d59145c3ed300b1ab77b93907d33abe59', abbreviated: false },
    });
    const unmatched = only(run(hook, { settings: { buildTags: true, tagPatterns: ['v*'] } }));
    expect(unmatched).toMatchObject({ action: 'skip', reason: 'tags-disabled' });
    expect(unmatched.message).toContain('v*');
  });

  it('matches tag patterns across slashes with the default pattern', () => {
    const hook = event('cloud/drone-go-scm__push_tag_create.json', 'repo:push'); // feature/x
    expect(only(run(hook, { settings: { buildTags: true } })).reason).toBe('tag-push');
  });

  it('always builds the default branch, whatever else is set', () => {
    const decision = only(
      run(cloudMainUpdate(), { settings: { onlyBuildPullRequests: true, ignoreBranches: ['*'] } }),
    );
    expect(decision).toMatchObject({ action: 'trigger', reason: 'default-branch', trust: 'trusted' });
  });

  it('skips a branch that matches ignoreBranches', () => {
    const decision = only(run(cloudBranchCreate(), { settings: { ignoreBranches: ['feature/*'] } }));
    expect(decision).toMatchObject({ action: 'skip', reason: 'branch-ignored' });
    expect(decision.message).toContain('feature/*');
  });

  it('builds a branch that matches alwaysBuildBranches even when only pull requests are built', () => {
    const decision = only(
      run(cloudBranchCreate(), {
        settings: { onlyBuildPullRequests: true, alwaysBuildBranches: ['feature/**'] },
      }),
    );
    expect(decision).toMatchObject({ action: 'trigger', reason: 'always-build-branch' });
  });

  it('lets ignoreBranches win over alwaysBuildBranches', () => {
    const settings = { ignoreBranches: ['feature/*'], alwaysBuildBranches: ['feature/*'] };
    expect(only(run(cloudBranchCreate(), { settings })).reason).toBe('branch-ignored');
  });

  it('builds a push to a branch with an open pull request when only pull requests are built', () => {
    const decision = only(
      run(cloudBranchCreate(), {
        settings: { onlyBuildPullRequests: true },
        open: [{ id: 7, sourceBranch: 'feature/test' }],
      }),
    );
    expect(decision).toMatchObject({ action: 'trigger', reason: 'pr-branch-push' });
    expect(decision.message).toContain('#7');
  });

  it('skips a push to a branch with no open pull request when only-PRs is on', () => {
    const decision = only(
      run(cloudBranchCreate(), {
        settings: { onlyBuildPullRequests: true },
        open: [{ id: 7, sourceBranch: 'feature/other' }],
      }),
    );
    expect(decision).toMatchObject({ action: 'skip', reason: 'no-open-pull-request' });
  });

  it("does not count a fork's pull request from a branch of the same name", () => {
    const decision = only(
      run(cloudBranchCreate(), {
        settings: { onlyBuildPullRequests: true },
        open: [{ id: 9, sourceBranch: 'feature/test', fromFork: true }],
      }),
    );
    expect(decision.reason).toBe('no-open-pull-request');
  });

  it('skips a push whose only open pull requests are drafts when drafts are not built', () => {
    const open = [{ id: 7, sourceBranch: 'feature/test', draft: true }];
    const settings = { onlyBuildPullRequests: true, buildDraftPullRequests: false };
    expect(only(run(cloudBranchCreate(), { settings, open })).reason).toBe('draft');
    expect(only(run(cloudBranchCreate(), { settings: { onlyBuildPullRequests: true }, open })).reason).toBe(
      'pr-branch-push',
    );
  });

  it('builds any other branch push by default', () => {
    expect(only(run(cloudBranchCreate()))).toMatchObject({
      action: 'trigger',
      reason: 'branch-push',
      ref: { type: 'branch', name: 'feature/test' },
      secretsAllowed: true,
    });
  });

  it('decides each change of a multi-change push separately, in payload order', () => {
    const decisions = run(event('cloud/jenkins-bbsource__multipleChangesPayload.json', 'repo:push'));
    expect(decisions.map((d) => [d.reason, d.ref?.name])).toEqual([
      ['default-branch', 'main'],
      ['branch-push', 'manchu'],
      ['tags-disabled', 'v0.1'],
    ]);
  });

  it('explains an empty push and a mirror that exceeded its ref limit', () => {
    const empty = only(run(event('cloud/jenkins-bbsource__emptyPayload.json', 'repo:push')));
    expect(empty).toMatchObject({ action: 'ignore', reason: 'event-not-used' });
    const mirror = only(
      run(
        event(
          'server/jenkins-bbsource__mirrorSynchronized_refLimitExceeded.json',
          'mirror:repo_synchronized',
        ),
      ),
    );
    expect(mirror.message).toContain('ref limit');
  });

  it('applies the same rules to Data Center pushes', () => {
    const dc = event('server/jenkins-bbsource__pushPayload_v10.json', 'repo:refs_changed'); // feature/BB-1
    expect(only(run(dc)).reason).toBe('branch-push');
    expect(only(run(dc, { defaultBranch: 'feature/BB-1' })).reason).toBe('default-branch');
    expect(only(run(dc, { settings: { onlyBuildPullRequests: true } })).reason).toBe('no-open-pull-request');
  });
});

describe('path filters', () => {
  // feature/test, created: compared with the default branch.
  const created = cloudBranchCreate;
  const CREATED_HEAD = '174561d625c9623b60d8aba09b7f08ddc9df45cd';
  // main pushed from 501bf5b… to e42fac2…, decided with another default branch.
  const updated = cloudMainUpdate;
  const UPDATED_RANGE = 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec..501bf5b99365d1d870882254b9360c17172bda0e';
  const services = { includePaths: ['services/api/**'], excludePaths: ['**/*.md'] };
  const answered = (key: string, answer: ChangedPaths) => new Map([[key, answer]]);

  it('reads ** across directories and * within one, for paths only', () => {
    expect(matchesPathGlob('services/api/src/main.ts', 'services/api/**')).toBe(true);
    expect(matchesPathGlob('services/web/src/main.ts', 'services/api/**')).toBe(false);
    expect(matchesPathGlob('README.md', '**/*.md')).toBe(true);
    expect(matchesPathGlob('docs/guide/setup.md', '**/*.md')).toBe(true);
    expect(matchesPathGlob('docs/a.md', 'docs/*')).toBe(true);
    expect(matchesPathGlob('docs/x/a.md', 'docs/*')).toBe(false);
    expect(matchesPathGlob('docs/x/a.md', 'docs/*/a.?d')).toBe(true);
    expect(matchesPathGlob('docs/x/a.md', 'docs/**/a.md')).toBe(true);
    expect(matchesPathGlob('docs/a.md', 'docs/**/a.md')).toBe(true);
    expect(matchesPathGlob('src/a(1).ts', 'src/a(1).ts')).toBe(true);
    expect(matchesPathGlob('src/a1.ts', 'src/a(1).ts')).toBe(false);
  });

  it('names the ranges to look up: the previous head, or the default branch for a new branch', () => {
    expect(changeRangesOf(created(), contextOf({ settings: services }))).toEqual([
      { head: CREATED_HEAD, base: 'main', baseIsBranch: true },
    ]);
    expect(
      changeRangesOf(updated(), contextOf({ settings: services, defaultBranch: 'develop' })).map(rangeKey),
    ).toEqual([UPDATED_RANGE]);
    // Nothing to look up without filters, for the default branch, or for what is not built anyway.
    expect(changeRangesOf(created(), contextOf({}))).toEqual([]);
    expect(changeRangesOf(updated(), contextOf({ settings: services }))).toEqual([]);
    const ignored = { ...services, ignoreBranches: ['feature/*'] };
    expect(changeRangesOf(created(), contextOf({ settings: ignored }))).toEqual([]);
    const always = { ...services, alwaysBuildBranches: ['feature/*'] };
    expect(changeRangesOf(created(), contextOf({ settings: always }))).toEqual([]);
    const onlyPrs = { ...services, onlyBuildPullRequests: true };
    expect(changeRangesOf(created(), contextOf({ settings: onlyPrs }))).toEqual([]);
  });

  it('builds a push whose changed files match includePaths, naming the file and pattern', () => {
    const decision = only(
      run(updated(), {
        settings: services,
        defaultBranch: 'develop',
        changedPaths: answered(UPDATED_RANGE, { paths: ['README.md', 'services/api/handler.ts'] }),
      }),
    );
    expect(decision).toMatchObject({ action: 'trigger', reason: 'branch-push' });
    expect(decision.message).toBe(
      'push to branch "main"; changed file "services/api/handler.ts" matches includePaths pattern "services/api/**"',
    );
  });

  it('skips a push whose changed files match no include, or only excludes, with paths-not-matched', () => {
    const key = `${CREATED_HEAD}..main`;
    const none = only(
      run(created(), { settings: services, changedPaths: answered(key, { paths: ['web/index.ts'] }) }),
    );
    expect(none).toEqual({
      action: 'skip',
      reason: 'paths-not-matched',
      message: 'none of the 1 changed file of branch "feature/test" matches includePaths ["services/api/**"]',
      ref: { type: 'branch', name: 'feature/test' },
      commit: expect.objectContaining({ sha: CREATED_HEAD }),
    });
    const excluded = only(
      run(created(), {
        settings: services,
        changedPaths: answered(key, { paths: ['services/api/README.md', 'web/x.ts'] }),
      }),
    );
    expect(excluded).toMatchObject({ action: 'skip', reason: 'paths-not-matched' });
    expect(excluded.message).toBe(
      'every one of the 2 changed files of branch "feature/test" that matches includePaths ["services/api/**"] also matches excludePaths ["**/*.md"]',
    );
    const onlyExcludes = only(
      run(created(), {
        settings: { excludePaths: ['docs/**'] },
        changedPaths: answered(key, { paths: ['docs/a.md', 'docs/b/c.png'] }),
      }),
    );
    expect(onlyExcludes.message).toBe(
      'every one of the 2 changed files of branch "feature/test" matches excludePaths ["docs/**"]',
    );
    const empty = only(run(created(), { settings: services, changedPaths: answered(key, { paths: [] }) }));
    expect(empty).toMatchObject({ action: 'skip', reason: 'paths-not-matched' });
    expect(empty.message).toContain('changes no file');
    // A file outside the excludes builds when only excludes are set.
    expect(
      only(
        run(created(), {
          settings: { excludePaths: ['docs/**'] },
          changedPaths: answered(key, { paths: ['docs/a.md', 'src/x.ts'] }),
        }),
      ),
    ).toMatchObject({ action: 'trigger', reason: 'branch-push' });
  });

  it('builds when the changed files are unknown, saying why the filters were not applied', () => {
    const key = `${CREATED_HEAD}..main`;
    const unknown = only(
      run(created(), { settings: services, changedPaths: answered(key, { unknown: 'Bitbucket is down' }) }),
    );
    expect(unknown).toMatchObject({ action: 'trigger', reason: 'branch-push' });
    expect(unknown.message).toBe(
      'push to branch "feature/test"; path filters not applied: Bitbucket is down',
    );
    const notAsked = only(run(created(), { settings: services }));
    expect(notAsked.action).toBe('trigger');
    expect(notAsked.message).toMatch(/path filters not applied: its changed files were not looked up$/);
  });

  it('always builds the default branch and an always-build branch, whatever changed', () => {
    const nothing = new Map([[`${CREATED_HEAD}..main`, { paths: [] }]]);
    expect(only(run(updated(), { settings: services, changedPaths: nothing })).reason).toBe('default-branch');
    const always = { ...services, alwaysBuildBranches: ['feature/*'] };
    expect(only(run(created(), { settings: always, changedPaths: nothing })).reason).toBe(
      'always-build-branch',
    );
  });

  it('filters a pull request by what its source changes against its destination commit', () => {
    const hook = event('cloud/jenkins-bbsource__createPayloadOrigin.json', 'pullrequest:created');
    const settings = { ...services, onlyBuildPullRequests: true };
    expect(changeRangesOf(hook, contextOf({ settings }))).toEqual([
      { head: 'a72355f35fde', base: 'f612156eff2c', baseIsBranch: false },
    ]);
    const key = 'a72355f35fde..f612156eff2c';
    const skipped = only(run(hook, { settings, changedPaths: answered(key, { paths: ['web/a.ts'] }) }));
    expect(skipped).toMatchObject({
      action: 'skip',
      reason: 'paths-not-matched',
      ref: { type: 'pull-request', name: 'pull-requests/1' },
      pullRequest: { id: 1 },
      message: 'none of the 1 changed file of pull request #1 matches includePaths ["services/api/**"]',
    });
    expect('triggerId' in skipped).toBe(false);
    const built = only(
      run(hook, { settings, changedPaths: answered(key, { paths: ['services/api/a.ts'] }) }),
    );
    expect(built).toMatchObject({ action: 'trigger', reason: 'pr-opened' });
    // A pull request left to its push asks nothing.
    expect(changeRangesOf(hook, contextOf({ settings: services }))).toEqual([]);
  });

  it('filters Data Center pushes alike: a new branch (all-zero fromHash) against the default branch', () => {
    const dc = event('server/jenkins-bbsource__pushPayload_v10.json', 'repo:refs_changed'); // feature/BB-1
    const key = 'fb522a6f08c7c7df337312e4e65ec1b57710672e..main';
    expect(changeRangesOf(dc, contextOf({ settings: services })).map(rangeKey)).toEqual([key]);
    expect(
      only(run(dc, { settings: services, changedPaths: answered(key, { paths: ['docs/x.md'] }) })).reason,
    ).toBe('paths-not-matched');
  });
});

describe('pull request rules', () => {
  const forkCreated = () => event('cloud/jenkins-bbsource__createPayloadFork.json', 'pullrequest:created');
  const sameRepoCreated = () =>
    event('cloud/jenkins-bbsource__createPayloadOrigin.json', 'pullrequest:created');

  it('skips a forked pull request unless forked builds are on', () => {
    expect(only(run(forkCreated()))).toMatchObject({ action: 'skip', reason: 'forks-disabled' });
  });

  it('builds a forked pull request untrusted and without secrets when forked builds are on', () => {
    const decision = only(run(forkCreated(), { settings: { buildForkedPullRequests: true } }));
    expect(decision).toMatchObject({
      action: 'trigger',
      reason: 'forked-pr',
      trust: 'untrusted',
      secretsAllowed: false,
      ref: { type: 'pull-request', name: 'pull-requests/3' },
      commit: { sha: '1c48041a96db', abbreviated: true },
      pullRequest: { id: 3, fromFork: true, sourceRepository: 'stephenc/temp-fork' },
    });
    const withSecrets = only(
      run(forkCreated(), {
        settings: { buildForkedPullRequests: true, passSecretsToForkedPullRequests: true },
      }),
    );
    expect(withSecrets).toMatchObject({ trust: 'untrusted', secretsAllowed: true });
  });

  it('builds a forked Data Center pull request the same way', () => {
    const hook = event('server/woodpecker__HookPullRequestOpenedFromFork.json', 'pr:opened');
    expect(only(run(hook)).reason).toBe('forks-disabled');
    expect(only(run(hook, { settings: { buildForkedPullRequests: true } })).reason).toBe('forked-pr');
  });

  it('leaves a same-repository pull request to the push unless only pull requests are built', () => {
    expect(only(run(sameRepoCreated()))).toMatchObject({ action: 'skip', reason: 'covered-by-push' });
    expect(only(run(sameRepoCreated(), { settings: { onlyBuildPullRequests: true } }))).toMatchObject({
      action: 'trigger',
      reason: 'pr-opened',
      trust: 'trusted',
      secretsAllowed: true,
    });
  });

  it('leaves a Data Center pull request opened from a tag to the push of that tag, and says so', () => {
    const fromTag = () => event('server/jenkins-bbsource__prOpenFromTagPayload.json', 'pr:opened'); // v1.0
    const off = only(run(fromTag()));
    expect(off).toMatchObject({ action: 'skip', reason: 'covered-by-push' });
    expect(off.message).toBe(
      'pull request #1 is from tag "v1.0": the push of that tag decides its build, and tag builds are off (buildTags is false)',
    );
    expect(off.message).not.toContain('branch');
    const on = only(run(fromTag(), { settings: { buildTags: true } }));
    expect(on.message).toBe('pull request #1 is from tag "v1.0": the push of that tag decides its build');
    expect(only(run(sameRepoCreated())).message).toContain('the push to branch "');
  });

  it('skips a draft pull request that would build when drafts are not built', () => {
    const draft = event('cloud/jenkins-bbsource__createPayloadOrigin.json', 'pullrequest:created', (p) => {
      p.pullrequest.draft = true;
    });
    const settings = { onlyBuildPullRequests: true, buildDraftPullRequests: false };
    expect(only(run(draft, { settings })).reason).toBe('draft');
    expect(only(run(draft, { settings: { onlyBuildPullRequests: true } })).reason).toBe('pr-opened');
  });

  it('leaves a same-repository source move to the push', () => {
    const moved = event('server/drone-go-scm__pr_from_ref_updated.json', 'pr:from_ref_updated');
    expect(only(run(moved, { settings: { onlyBuildPullRequests: true } })).reason).toBe('covered-by-push');
  });

  it('treats a forked pull request whose source moved as opened', () => {
    const moved = event('cloud/jenkins-bbsource__updatePayload_newCommit.json', 'pullrequest:updated');
    const open = [{ id: 3, sourceBranch: 'main', sourceCommit: '1c48041a96db', fromFork: true }];
    expect(only(run(moved, { open, settings: { buildForkedPullRequests: true } })).reason).toBe('forked-pr');
    expect(only(run(moved, { open })).reason).toBe('forks-disabled');
  });

  it('skips pullrequest:updated fired by a destination change: the source commit is unchanged', () => {
    const moved = event('cloud/jenkins-bbsource__updatePayload_newDestination.json', 'pullrequest:updated');
    const open = [{ id: 3, sourceBranch: 'main', sourceCommit: '63e3d18dca4c7a3ef9f3ec9b5d62e9a4bcbe6b11' }];
    const decision = only(run(moved, { open, settings: { buildForkedPullRequests: true } }));
    expect(decision).toMatchObject({ action: 'skip', reason: 'pr-metadata' });
  });

  it('treats pullrequest:updated with no recorded commit as a move', () => {
    const moved = event('cloud/jenkins-bbsource__updatePayload_newDestination.json', 'pullrequest:updated');
    expect(only(run(moved, { settings: { buildForkedPullRequests: true } })).reason).toBe('forked-pr');
  });

  it('skips Data Center pr:modified as metadata', () => {
    const modified = event('server/drone-go-scm__pr_modified_toref.json', 'pr:modified');
    expect(only(run(modified, { settings: { onlyBuildPullRequests: true } }))).toMatchObject({
      action: 'skip',
      reason: 'pr-metadata',
    });
  });

  it.each([
    ['cloud/drone-go-scm__pr_fulfilled.json', 'pullrequest:fulfilled', 'merged'],
    ['cloud/drone-go-scm__pr_declined.json', 'pullrequest:rejected', 'declined'],
    ['server/drone-go-scm__pr_merged.json', 'pr:merged', 'merged'],
    ['server/drone-go-scm__pr_declined.json', 'pr:declined', 'declined'],
    ['server/jenkins-bbsource__deletePRPayload.json', 'pr:deleted', 'declined'],
  ])('skips a closed pull request (%s) with pr-closed', (file, key, state) => {
    const decision = only(run(event(file, key), { settings: { onlyBuildPullRequests: true } }));
    expect(decision).toMatchObject({ action: 'skip', reason: 'pr-closed' });
    expect(decision.message).toContain(state);
  });
});

describe('a draft marked ready for review', () => {
  // A real 2026 capture of Bitbucket Cloud, which carries `draft: false`: PR #1 of
  // nfalco79/test-repos from release/release-1 at f945c96c71d0.
  const ready = () => event('cloud/jenkins-bbsource__pullrequest_updated.json', 'pullrequest:updated');
  const REPOSITORY = '{3deb8c29-778a-450c-8f69-3e50a18079df}';
  const recordedDraft: OpenPullRequest = {
    id: 1,
    sourceBranch: 'release/release-1',
    sourceCommit: 'f945c96c71d0',
    fromFork: false,
    draft: true,
  };
  const draftsOff = { onlyBuildPullRequests: true, buildDraftPullRequests: false };

  it('builds its source commit once with pr-ready when only pull requests are built and drafts are not', () => {
    const decision = only(run(ready(), { settings: draftsOff, open: [recordedDraft] }));
    expect(decision).toMatchObject({
      action: 'trigger',
      reason: 'pr-ready',
      ref: { type: 'pull-request', name: 'pull-requests/1' },
      commit: { sha: 'f945c96c71d0', abbreviated: true },
      pullRequest: { id: 1, sourceBranch: 'release/release-1', fromFork: false },
      trust: 'trusted',
      secretsAllowed: true,
    });
    expect(decision.message).toContain('marked ready for review');
    // The id of this commit on this pull request: a redelivery, or opening it ready, is one trigger.
    expect(idOf(decision)).toBe(triggerIdOf(REPOSITORY, 'pull-request', 'pull-requests/1', 'f945c96c71d0'));
    expect(idOf(only(run(ready(), { settings: draftsOff, open: [recordedDraft] })))).toBe(idOf(decision));
  });

  it('builds nothing for the same event once the pull request is recorded ready', () => {
    const recordedReady = { ...recordedDraft, draft: false };
    expect(only(run(ready(), { settings: draftsOff, open: [recordedReady] }))).toMatchObject({
      action: 'skip',
      reason: 'pr-metadata',
    });
  });

  it('builds the new commit when it comes with the change to ready', () => {
    const open = [{ ...recordedDraft, sourceCommit: '0123456789ab' }];
    expect(only(run(ready(), { settings: draftsOff, open }))).toMatchObject({
      reason: 'pr-ready',
      commit: { sha: 'f945c96c71d0' },
    });
  });

  it('leaves it to the push when only-PRs is off: the draft never held its pushes back', () => {
    const decision = only(
      run(ready(), { settings: { buildDraftPullRequests: false }, open: [recordedDraft] }),
    );
    expect(decision).toMatchObject({ action: 'skip', reason: 'covered-by-push' });
    expect(decision.message).toContain('marked ready for review');
    expect(decision.message).toContain('onlyBuildPullRequests off');
  });

  it('builds nothing new when drafts are built: the draft was built already', () => {
    const decision = only(run(ready(), { settings: { onlyBuildPullRequests: true }, open: [recordedDraft] }));
    expect(decision).toMatchObject({ action: 'skip', reason: 'pr-metadata' });
    expect(decision.message).toContain('drafts are built');
  });

  it('builds a forked draft marked ready untrusted when forked builds are on', () => {
    const forked = event('cloud/jenkins-bbsource__updatePayload_newDestination.json', 'pullrequest:updated');
    const open = [{ id: 3, sourceBranch: 'main', sourceCommit: '63e3d18dca4c', fromFork: true, draft: true }];
    const settings = { buildForkedPullRequests: true, buildDraftPullRequests: false };
    expect(only(run(forked, { settings, open }))).toMatchObject({
      action: 'trigger',
      reason: 'pr-ready',
      trust: 'untrusted',
      secretsAllowed: false,
      commit: { sha: '63e3d18dca4c' },
    });
    expect(only(run(forked, { settings: { buildDraftPullRequests: false }, open })).reason).toBe(
      'forks-disabled',
    );
  });

  it('reads the change to ready from Data Center pr:opened and pr:modified carrying draft', () => {
    const opened = event('server/jenkins-bbsource__newPRPayload.json', 'pr:opened'); // draft: false
    const open = [{ id: 1, sourceBranch: 'feature/diffstat', fromFork: false, draft: true }];
    expect(only(run(opened, { settings: draftsOff, open }))).toMatchObject({
      reason: 'pr-ready',
      commit: { sha: '251fce291f086cdde68ae2a896148abb5b58033e', abbreviated: false },
    });
    // This capture predates drafts; Data Center 8.18 and later add the flag to every pull request.
    const modified = event('server/drone-go-scm__pr_modified_toref.json', 'pr:modified', (p) => {
      p.pullRequest.draft = false;
    });
    const recorded: OpenPullRequest = { id: 2, sourceBranch: 'feature-2', fromFork: false, draft: true };
    expect(only(run(modified, { settings: draftsOff, open: [recorded] })).reason).toBe('pr-ready');
    expect(only(run(modified, { settings: draftsOff, open: [{ ...recorded, draft: false }] })).reason).toBe(
      'pr-metadata',
    );
  });

  it('says when a ready pull request was converted to a draft, and builds nothing', () => {
    const converted = event(
      'cloud/jenkins-bbsource__pullrequest_updated.json',
      'pullrequest:updated',
      (p) => {
        p.pullrequest.draft = true;
      },
    );
    const decision = only(
      run(converted, { settings: draftsOff, open: [{ ...recordedDraft, draft: false }] }),
    );
    expect(decision).toMatchObject({ action: 'skip', reason: 'pr-metadata' });
    expect(decision.message).toContain('converted to a draft');
  });

  it('is explained by evaluate given the recorded draft flag as state', () => {
    const { decisions } = evaluateDelivery({
      eventKey: 'pullrequest:updated',
      payload: readFixtureJson('cloud/jenkins-bbsource__pullrequest_updated.json'),
      defaultBranch: 'master',
      settings: draftsOff,
      state: { openPullRequests: [recordedDraft] },
    });
    expect(only(decisions).reason).toBe('pr-ready');
    expect(() =>
      evaluateDelivery({
        eventKey: 'pullrequest:updated',
        payload: readFixtureJson('cloud/jenkins-bbsource__pullrequest_updated.json'),
        defaultBranch: 'master',
        state: { openPullRequests: [{ ...recordedDraft, draft: 'yes' }] },
      }),
    ).toThrow(/draft/);
  });
});

describe('skip markers in pull request titles', () => {
  const titled = (file: string, key: string, title: string) =>
    event(file, key, (p) => {
      p.pullrequest.title = title;
    });
  const sameRepo = (title: string) =>
    titled('cloud/jenkins-bbsource__createPayloadOrigin.json', 'pullrequest:created', title);

  it('skips a pull request trigger whose title carries a skip marker, in any case', () => {
    const decision = only(
      run(sameRepo('Docs only [Skip CI]'), { settings: { onlyBuildPullRequests: true } }),
    );
    expect(decision).toMatchObject({ action: 'skip', reason: 'skip-marker', ref: { type: 'pull-request' } });
    expect(decision.message).toContain('title');
    expect(decision.message).toContain('[skip ci]');
    const forked = titled(
      'cloud/jenkins-bbsource__createPayloadFork.json',
      'pullrequest:created',
      '[ci skip] wip',
    );
    expect(only(run(forked, { settings: { buildForkedPullRequests: true } })).reason).toBe('skip-marker');
  });

  it('honours the configured markers, and none when they are off', () => {
    const custom = sameRepo('wip [no build]');
    expect(
      only(run(custom, { settings: { onlyBuildPullRequests: true, skipMarkers: ['[no build]'] } })).reason,
    ).toBe('skip-marker');
    expect(only(run(custom, { settings: { onlyBuildPullRequests: true } })).reason).toBe('pr-opened');
    const marked = sameRepo('[skip ci] docs');
    expect(only(run(marked, { settings: { onlyBuildPullRequests: true, skipMarkers: false } })).reason).toBe(
      'pr-opened',
    );
  });

  it('skips a draft marked ready whose title carries a marker', () => {
    const hook = titled(
      'cloud/jenkins-bbsource__pullrequest_updated.json',
      'pullrequest:updated',
      'Release 1 [skip ci]',
    );
    const open = [{ id: 1, sourceBranch: 'release/release-1', sourceCommit: 'f945c96c71d0', draft: true }];
    const settings = { onlyBuildPullRequests: true, buildDraftPullRequests: false };
    expect(only(run(hook, { settings, open })).reason).toBe('skip-marker');
  });

  it('leaves decisions that build nothing as they were', () => {
    expect(only(run(sameRepo('[skip ci] docs'))).reason).toBe('covered-by-push');
  });
});

describe('events that never build', () => {
  it.each([
    ['cloud/go-playground-webhooks__pull-request-approval-removed.json', 'pullrequest:unapproved'],
    ['cloud/drone-go-scm__pr_comment_created.json', 'pullrequest:comment_created'],
    ['cloud/drone-go-scm__pipeline_hook_created.json', 'repo:commit_status_created'],
    ['cloud/go-playground-webhooks__issue-created.json', 'issue:created'],
    ['server/jx-go-scm__pr_needs_work.json', 'pr:reviewer:needs_work'],
    ['server/jx-go-scm__pr_needs_work.json', 'pr:reviewer:changes_requested'],
    [
      'cloud/go-playground-webhooks__pull-request-approval-removed.json',
      'pullrequest:changes_request_created',
    ],
    [
      'cloud/go-playground-webhooks__pull-request-approval-removed.json',
      'pullrequest:changes_request_removed',
    ],
    ['server/go-playground-webhooks__repo-forked.json', 'repo:forked'],
  ])('ignores %s as %s with event-not-used', (file, key) => {
    const decision = only(run(event(file, key)));
    expect(decision).toMatchObject({ action: 'ignore', reason: 'event-not-used' });
    expect(decision.message).toContain(key);
  });

  it('ignores a rename and says where the repository went', () => {
    const cloud = only(run(event('cloud/go-playground-webhooks__repo-updated.json', 'repo:updated')));
    expect(cloud).toMatchObject({ action: 'ignore', reason: 'repository-updated' });
    expect(cloud.message).toContain('teamawesome/repository_name');
    const dc = only(run(event('server/go-playground-webhooks__repo-modified.json', 'repo:modified')));
    expect(dc).toMatchObject({ action: 'ignore', reason: 'repository-updated' });
  });

  it('answers a connection test with ping, with or without an event key', () => {
    expect(only(run(event('server/jenkins-bbsource__ping.json', 'diagnostics:ping'))).reason).toBe('ping');
    const keyless = normaliseDelivery({ eventKey: undefined, body: { test: true } });
    expect(only(run(keyless))).toMatchObject({ action: 'ignore', reason: 'ping' });
  });
});

describe('trigger ids', () => {
  it('are stable for the same project, ref and commit and differ otherwise', () => {
    const sha = '325d37697849f4b1fe42cb19c20134af08e03a82';
    const id = triggerIdOf('p1', 'branch', 'main', sha);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(triggerIdOf('p1', 'branch', 'main', sha.toUpperCase())).toBe(id);
    expect(triggerIdOf('p2', 'branch', 'main', sha)).not.toBe(id);
    expect(triggerIdOf('p1', 'tag', 'main', sha)).not.toBe(id);
    expect(triggerIdOf('p1', 'branch', 'dev', sha)).not.toBe(id);
    expect(triggerIdOf('p1', 'branch', 'main', `${sha.slice(0, 39)}0`)).not.toBe(id);
  });

  it('give the same commit on the same ref one trigger id across deliveries', () => {
    const push = cloudMainUpdate() as PushEvent;
    const first = only(run(push));
    const again = only(run(cloudMainUpdate()));
    expect(idOf(first)).toBeDefined();
    expect(idOf(again)).toBe(idOf(first));
    expect(idOf(first)).toBe(
      triggerIdOf(push.repository.id ?? '', 'branch', 'main', first.commit?.sha ?? ''),
    );
  });

  it('are scoped to the project id when one is given', () => {
    const hook = cloudMainUpdate();
    const settings = ProjectSettingsSchema.parse({});
    const a = decide(hook, {
      projectId: 'a',
      defaultBranch: 'main',
      settings,
      state: { openPullRequests: [] },
    });
    const b = decide(hook, {
      projectId: 'b',
      defaultBranch: 'main',
      settings,
      state: { openPullRequests: [] },
    });
    expect(a[0] && idOf(a[0])).not.toBe(b[0] && idOf(b[0]));
  });

  it('are given to triggers only', () => {
    const decisions = run(event('cloud/jenkins-bbsource__multipleChangesPayload.json', 'repo:push'));
    expect(decisions.map((d) => idOf(d) !== undefined)).toEqual([true, true, false]);
    const pr = only(run(event('cloud/jenkins-bbsource__createPayloadFork.json', 'pullrequest:created')));
    expect((pr as Decision & { triggerId?: string }).triggerId).toBeUndefined();
    expect(
      (event('cloud/jenkins-bbsource__createPayloadFork.json', 'pullrequest:created') as PullRequestEvent)
        .kind,
    ).toBe('pull-request');
  });
});

describe('manual builds', () => {
  const manual = (edit: Partial<ManualBuildEvent> = {}): ManualBuildEvent => ({
    kind: 'manual-build',
    provider: 'bitbucket-cloud',
    eventKey: 'hookgate:manual-build',
    projectId: 'prj-0123456789abcdef',
    buildId: 'b-1',
    repository: { id: '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}', fullName: 'cloudbeers/temp', cloneUrls: {} },
    ref: { type: 'branch', name: 'wip/experiment' },
    commit: {
      sha: 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec',
      abbreviated: false,
      message: 'wip [ci skip]\n',
    },
    fromFork: false,
    actor: { name: 'alice' },
    ...edit,
  });

  it('triggers what was asked for whatever the settings, skip markers included, with reason manual', () => {
    const decision = only(
      run(manual(), {
        settings: { ignoreBranches: ['wip/*'], onlyBuildPullRequests: true },
      }),
    );
    expect(decision).toMatchObject({
      action: 'trigger',
      reason: 'manual',
      message: 'manual build of branch "wip/experiment" asked for by alice',
      ref: { type: 'branch', name: 'wip/experiment' },
      trust: 'trusted',
      secretsAllowed: true,
    });
  });

  it('gives each build request its own trigger id, never the one a push of that commit has', () => {
    const first = idOf(only(run(manual())));
    const second = idOf(only(run(manual({ buildId: 'b-2' }))));
    expect(first).toBe(manualTriggerIdOf('prj-0123456789abcdef', 'b-1'));
    expect(second).not.toBe(first);
    expect(first).not.toBe(
      triggerIdOf(
        'prj-0123456789abcdef',
        'branch',
        'wip/experiment',
        'e42fac24456e4a56f1b7f9358afc3070e3b7ddec',
      ),
    );
  });

  it('builds a pull request from a fork untrusted, with secrets only when forks get them', () => {
    const fork = manual({ ref: { type: 'pull-request', name: 'pull-requests/7' }, fromFork: true });
    expect(only(run(fork))).toMatchObject({
      message: 'manual build of pull request #7 asked for by alice (from a fork: untrusted)',
      trust: 'untrusted',
      secretsAllowed: false,
    });
    expect(only(run(fork, { settings: { passSecretsToForkedPullRequests: true } }))).toMatchObject({
      trust: 'untrusted',
      secretsAllowed: true,
    });
  });
});

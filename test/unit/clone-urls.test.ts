import { describe, expect, it } from 'vitest';
import { cloneUrlsAfter, derivedCloneUrls, placeholderCloneUrl } from '../../shared/bitbucket/clone-urls';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import type { Repository } from '../../shared/domain/events';
import { readFixtureJson } from '../support/fixtures';

const repositoryOf = (file: string, eventKey: string): Repository => {
  const event = normaliseDelivery({ eventKey, body: readFixtureJson(file) });
  if (!('repository' in event) || !event.repository) throw new Error(`${file} names no repository`);
  return event.repository;
};

describe('clone URLs after a delivery names the repository', () => {
  const before = repositoryOf('server/jenkins-bbsource__pushPayload.json', 'repo:refs_changed'); // AMUNIZ/test-repos

  it('rewrites the stored Data Center URLs to a new name the payload gives without links', () => {
    const after = repositoryOf('server/drone-go-scm__push.json', 'repo:refs_changed'); // PRJ/my-repo
    expect(after.cloneUrls).toEqual({});
    expect(cloneUrlsAfter(before, after)).toEqual({
      ssh: 'ssh://git@localhost:7999/prj/my-repo.git',
      https: 'http://localhost:7990/scm/prj/my-repo.git',
    });
  });

  it('takes the links a payload carries, and keeps the stored URLs when the name is unchanged', () => {
    const modified = repositoryOf('server/go-playground-webhooks__repo-modified.json', 'repo:modified');
    expect(cloneUrlsAfter(before, modified)).toEqual(modified.cloneUrls);
    expect(cloneUrlsAfter(before, { fullName: before.fullName, cloneUrls: {} })).toEqual(before.cloneUrls);
  });

  it("keeps the key's case when the stored URL had it", () => {
    const upper = repositoryOf('server/jenkins-bbsource__prOpenFromTagPayload.json', 'pr:opened');
    expect(upper.cloneUrls.ssh).toBe('ssh://git@localhost:7999/AMUNIZ/test-repos.git');
    expect(cloneUrlsAfter(upper, { fullName: 'PRJ/my-repo', cloneUrls: {} }).ssh).toBe(
      'ssh://git@localhost:7999/PRJ/my-repo.git',
    );
  });

  it('drops a URL that does not end with the stored name, and uses the placeholder when none is left', () => {
    const stored = {
      fullName: 'PRJ/old',
      cloneUrls: { ssh: 'ssh://git@mirror.example.com/mirrors/old-mirror.git' },
    };
    expect(cloneUrlsAfter(stored, { fullName: 'PRJ/new', cloneUrls: {} })).toEqual({
      ssh: placeholderCloneUrl('PRJ/new'),
    });
  });

  it('lets the placeholder give way to any link a delivery carries', () => {
    const stored = { fullName: before.fullName, cloneUrls: { ssh: placeholderCloneUrl(before.fullName) } };
    expect(
      cloneUrlsAfter(stored, {
        fullName: before.fullName,
        cloneUrls: { https: before.cloneUrls.https as string },
      }),
    ).toEqual({ https: before.cloneUrls.https });
  });

  it('derives Cloud URLs from the name and Data Center HTTPS from the server root', () => {
    expect(derivedCloneUrls('bitbucket-cloud', 'amuniz/test-repos')).toEqual({
      ssh: 'git@bitbucket.org:amuniz/test-repos.git',
      https: 'https://bitbucket.org/amuniz/test-repos.git',
    });
    expect(derivedCloneUrls('bitbucket-data-center', 'AMUNIZ/test-repos', 'http://localhost:7990/')).toEqual({
      https: 'http://localhost:7990/scm/amuniz/test-repos.git',
    });
    expect(derivedCloneUrls('bitbucket-data-center', 'AMUNIZ/test-repos')).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { autoConnect } from '../../local/auto-connect';
import { projectIdOf } from '../../shared/admin/project-id';
import type { PushEvent } from '../../shared/domain/events';
import { DEFAULT_SETTINGS } from '../../shared/domain/settings';
import type { IntegrationRecord, ProjectRecord, Store } from '../../shared/store/store';

const integration = { name: 'local' } as IntegrationRecord;
const push = (cloneUrls: PushEvent['repository']['cloneUrls']): PushEvent => ({
  kind: 'push',
  provider: 'bitbucket-data-center',
  eventKey: 'repo:refs_changed',
  repository: { id: '42', fullName: 'PRJ/my-repo', cloneUrls },
  changes: [],
});

function memoryStore() {
  const projects = new Map<string, ProjectRecord>();
  const store = {
    getProject: async (id: string) => projects.get(id),
    putProject: async (project: ProjectRecord) => {
      projects.set(project.id, project);
    },
  } as unknown as Store;
  return { store, projects };
}

describe('automatic connection in local mode', () => {
  it('connects an unknown repository with default settings and the configured default branch', async () => {
    const { store, projects } = memoryStore();
    const connected: ProjectRecord[] = [];
    const connect = autoConnect({
      store,
      defaultBranch: 'develop',
      now: () => new Date('2026-01-01T00:00:00Z'),
      onConnected: (project) => connected.push(project),
    });
    const project = await connect(integration, push({ ssh: 'ssh://git@bb:7999/prj/my-repo.git' }));
    expect(project).toMatchObject({
      id: projectIdOf('local', '42'),
      integration: 'local',
      provider: 'bitbucket-data-center',
      repositoryId: '42',
      fullName: 'PRJ/my-repo',
      cloneUrls: { ssh: 'ssh://git@bb:7999/prj/my-repo.git' },
      defaultBranch: 'develop',
      settings: DEFAULT_SETTINGS,
      deployKeySecretId: `hookgate/local/projects/${projectIdOf('local', '42')}/deploy-key`,
    });
    expect(projects.size).toBe(1);
    expect(connected).toHaveLength(1);
  });

  it('derives the project id the admin API derives: the same for the same repository every time, another for another', () => {
    expect(projectIdOf('local', '{uuid-1}')).toBe(projectIdOf('local', '{uuid-1}'));
    expect(projectIdOf('local', '{uuid-1}')).toMatch(/^prj-[0-9a-f]{16}$/);
    expect(projectIdOf('local', '{uuid-2}')).not.toBe(projectIdOf('local', '{uuid-1}'));
    expect(projectIdOf('other', '{uuid-1}')).not.toBe(projectIdOf('local', '{uuid-1}'));
  });

  it('gives a payload without clone links an unroutable placeholder, and says so', async () => {
    const { store } = memoryStore();
    const placeholders: (string | undefined)[] = [];
    const connect = autoConnect({
      store,
      defaultBranch: 'main',
      now: () => new Date(),
      onConnected: (_project, placeholder) => placeholders.push(placeholder),
    });
    const project = await connect(integration, push({}));
    expect(project?.cloneUrls).toEqual({ ssh: 'ssh://git@clone-url-unknown.invalid/PRJ/my-repo.git' });
    expect(placeholders).toEqual(['ssh://git@clone-url-unknown.invalid/PRJ/my-repo.git']);
  });

  it('completes a project whose repository mapping is missing without announcing it again', async () => {
    const { store, projects } = memoryStore();
    let announced = 0;
    const connect = autoConnect({
      store,
      defaultBranch: 'main',
      now: () => new Date(),
      onConnected: () => announced++,
    });
    const first = await connect(integration, push({ ssh: 'ssh://a' }));
    const again = await connect(integration, push({ ssh: 'ssh://a' }));
    expect(again).toEqual(first);
    expect(projects.size).toBe(1);
    expect(announced).toBe(1);
  });

  it('attaches again, with its settings, a project detached when its integration was deleted', async () => {
    const { store, projects } = memoryStore();
    const connect = autoConnect({
      store,
      defaultBranch: 'main',
      now: () => new Date('2026-02-01T00:00:00Z'),
    });
    const first = (await connect(integration, push({ ssh: 'ssh://a' }))) as ProjectRecord;
    const settings = { ...DEFAULT_SETTINGS, ignoreBranches: ['wip/*'] };
    projects.set(first.id, { ...first, settings, status: 'detached', detachedAt: '2026-01-15T00:00:00Z' });

    const again = await connect(integration, push({ ssh: 'ssh://a' }));
    expect(again).toMatchObject({ id: first.id, status: 'connected', settings });
    expect(again?.detachedAt).toBeUndefined();
    expect(projects.get(first.id)?.status).toBe('connected');
  });
});

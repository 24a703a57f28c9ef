import { projectIdOf } from '../shared/admin/project-id';
import { placeholderCloneUrl } from '../shared/bitbucket/clone-urls';
import type { HookEvent } from '../shared/domain/events';
import { DEFAULT_SETTINGS } from '../shared/domain/settings';
import { secretIds } from '../shared/secrets/secrets';
import type { IntegrationRecord, ProjectRecord, Store } from '../shared/store/store';
import { LOCAL_STAGE } from './bootstrap';

export interface AutoConnectOptions {
  store: Store;
  /** Payloads never carry the default branch (DESIGN §3); local mode takes it from `--default-branch`. */
  defaultBranch: string;
  now: () => Date;
  /**
   * `placeholderCloneUrl` is set when the payload had no clone link: many Data Center payloads
   * carry none, and local mode cannot ask the REST API, so triggers carry an unroutable URL until
   * a delivery that has the links updates the project.
   */
  onConnected?: (project: ProjectRecord, placeholderCloneUrl?: string) => void;
}

/**
 * The processor's `connectUnknownRepository` for local mode: a repository seen for the first time
 * becomes a project with default settings. No deploy key is generated; the trigger names the id
 * one would have. The id is the admin API's (`projectIdOf`), so a repository connected through
 * `POST /admin/projects` is found here and never connected twice, and the reverse is a 409.
 */
export function autoConnect(options: AutoConnectOptions) {
  return async (integration: IntegrationRecord, event: HookEvent): Promise<ProjectRecord | undefined> => {
    const repository = 'repository' in event ? event.repository : undefined;
    if (!repository?.id) return undefined;
    const id = projectIdOf(integration.name, repository.id);
    // A project without its repository mapping (a crash between the two writes) is completed.
    const existing = await options.store.getProject(id);
    const at = options.now().toISOString();
    const fullName = repository.fullName || repository.id;
    const hasCloneUrl = Boolean(repository.cloneUrls.ssh || repository.cloneUrls.https);
    // A project detached when its integration was deleted is attached again, keeping its settings.
    const attached: ProjectRecord | undefined =
      existing?.status === 'detached'
        ? { ...existing, status: 'connected', detachedAt: undefined, updatedAt: at }
        : existing;
    const project: ProjectRecord = attached ?? {
      id,
      integration: integration.name,
      provider: event.provider,
      repositoryId: repository.id,
      fullName,
      cloneUrls: hasCloneUrl ? repository.cloneUrls : { ssh: placeholderCloneUrl(fullName) },
      defaultBranch: options.defaultBranch,
      settings: DEFAULT_SETTINGS,
      deployKeySecretId: secretIds.deployKey(LOCAL_STAGE, id),
      createdAt: at,
      updatedAt: at,
    };
    await options.store.putProject(project);
    if (!existing) options.onConnected?.(project, hasCloneUrl ? undefined : project.cloneUrls.ssh);
    return project;
  };
}

// bench/ imports it from here.
export { projectIdOf };

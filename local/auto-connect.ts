import { projectIdOf } from '../shared/admin/project-id';
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
  /** `placeholderCloneUrl` is set when the payload had no clone link (see below). */
  onConnected?: (project: ProjectRecord, placeholderCloneUrl?: string) => void;
}

/**
 * Many Data Center payloads carry no clone links, and the processor needs a clone URL for every
 * trigger. On AWS connect reads it from the REST API; local mode has no credentials, so it uses an
 * unroutable (`.invalid`) placeholder until a delivery that has the links updates the project.
 */
export function placeholderCloneUrl(fullName: string): string {
  return `ssh://git@clone-url-unknown.invalid/${fullName}.git`;
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
    const project: ProjectRecord = existing ?? {
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

import { CLOUD_WEBHOOK_EVENTS, DATA_CENTER_WEBHOOK_EVENTS } from '../../shared/bitbucket/event-keys';
import type { Provider } from '../../shared/domain/events';
import type { FakeHttpServer } from '../support/fake-bitbucket/fake-server';
import { CLOUD_TOKEN, createCloudIntegration, createDcIntegration, DC_TOKEN, type Harness } from './support';

export const PIPELINE_FILE = '.hookgate/pipeline.yml';
/** The SSH host key line of the Data Center integration, which runners need to clone. */
export const DC_KNOWN_HOST =
  '[bitbucket.example.com]:7999 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHookgateTestHostKeyOnlyForTests0000000';

/** A hook or deploy key as the fake holds it, in one shape for both platforms. */
export interface FakeHook {
  id: string;
  url: string;
  description: string;
  events: string[];
  secret: string | null;
  active: boolean;
}

export interface FakeKey {
  id: string;
  /** `type base64`. */
  body: string;
  label: string;
  readOnly: boolean;
}

/** One platform as the tests drive it: set-up, what the fake holds, and how to break it. */
export interface PlatformKit {
  name: string;
  provider: Provider;
  integration: string;
  repository: string;
  events: readonly string[];
  /** Creates the integration and the repository (with the pipeline file on main); returns the repository id and webhook secret. */
  setup(h: Harness): Promise<{ repositoryId: string; webhookSecret: string }>;
  server(h: Harness): FakeHttpServer;
  hooks(h: Harness): FakeHook[];
  keys(h: Harness): FakeKey[];
  addHook(h: Harness, hook: Omit<FakeHook, 'id'>): void;
  addKey(h: Harness, key: { text: string; label: string }): void;
  deleteHook(h: Harness, id: string): void;
  setHookEvents(h: Harness, id: string, events: string[]): void;
  unsetHookSecret(h: Harness, id: string): void;
  deleteKey(h: Harness, id: string): void;
  revokeCredentials(h: Harness): void;
  removePipelineFile(h: Harness): void;
}

export const cloudKit: PlatformKit = {
  name: 'Bitbucket Cloud',
  provider: 'bitbucket-cloud',
  integration: 'cloud-main',
  repository: 'acme/web',
  events: CLOUD_WEBHOOK_EVENTS,
  async setup(h) {
    const created = await createCloudIntegration(h);
    const repo = h.cloud.addRepository({ workspace: 'acme', slug: 'web', files: { main: [PIPELINE_FILE] } });
    return { repositoryId: repo.uuid, webhookSecret: created.body.webhookSecret };
  },
  server: (h) => h.cloud,
  hooks: (h) =>
    [...h.cloud.repository('acme/web').hooks.values()].map((hook) => ({
      id: hook.uuid,
      url: hook.url,
      description: hook.description,
      events: hook.events,
      secret: hook.secret,
      active: hook.active,
    })),
  keys: (h) =>
    [...h.cloud.repository('acme/web').deployKeys.values()].map((key) => ({
      id: String(key.id),
      body: key.key,
      label: key.label,
      readOnly: true,
    })),
  addHook(h, hook) {
    const uuid = `{hand-made-${h.cloud.repository('acme/web').hooks.size}}`;
    h.cloud.repository('acme/web').hooks.set(uuid, { ...hook, uuid, created_at: new Date().toISOString() });
  },
  addKey(h, key) {
    const [type, data, ...comment] = key.text.split(' ');
    const keys = h.cloud.repository('acme/web').deployKeys;
    const id = 1000 + keys.size;
    keys.set(id, { id, key: `${type} ${data}`, comment: comment.join(' '), label: key.label });
  },
  deleteHook: (h, id) => h.cloud.repository('acme/web').hooks.delete(id),
  setHookEvents(h, id, events) {
    const hook = h.cloud.repository('acme/web').hooks.get(id);
    if (hook) hook.events = events;
  },
  unsetHookSecret(h, id) {
    const hook = h.cloud.repository('acme/web').hooks.get(id);
    if (hook) hook.secret = null;
  },
  deleteKey: (h, id) => h.cloud.repository('acme/web').deployKeys.delete(Number(id)),
  revokeCredentials: (h) => h.cloud.revoke(CLOUD_TOKEN),
  removePipelineFile: (h) => h.cloud.repository('acme/web').files.get('main')?.delete(PIPELINE_FILE),
};

export const dataCenterKit: PlatformKit = {
  name: 'Bitbucket Data Center',
  provider: 'bitbucket-data-center',
  integration: 'dc-main',
  repository: 'ACME/web',
  events: DATA_CENTER_WEBHOOK_EVENTS,
  async setup(h) {
    const created = await createDcIntegration(h, 'dc-main', { sshKnownHosts: [DC_KNOWN_HOST] });
    const repo = h.dc.addRepository({
      projectKey: 'ACME',
      slug: 'web',
      files: { main: { [PIPELINE_FILE]: 'steps: []\n' } },
    });
    return { repositoryId: String(repo.id), webhookSecret: created.body.webhookSecret };
  },
  server: (h) => h.dc,
  hooks: (h) =>
    [...h.dc.repository('ACME/web').hooks.values()].map((hook) => ({
      id: String(hook.id),
      url: hook.url,
      description: hook.name,
      events: hook.events,
      secret: hook.configuration.secret ?? null,
      active: hook.active,
    })),
  keys: (h) =>
    [...h.dc.repository('ACME/web').accessKeys.values()].map((key) => ({
      id: String(key.id),
      body: key.text.split(' ').slice(0, 2).join(' '),
      label: key.label,
      readOnly: key.permission === 'REPO_READ',
    })),
  addHook(h, hook) {
    const hooks = h.dc.repository('ACME/web').hooks;
    const id = 5000 + hooks.size;
    hooks.set(id, {
      id,
      name: hook.description,
      url: hook.url,
      active: hook.active,
      events: hook.events,
      configuration: hook.secret ? { secret: hook.secret } : {},
      sslVerificationRequired: true,
      createdDate: 0,
      updatedDate: 0,
    });
  },
  addKey(h, key) {
    const keys = h.dc.repository('ACME/web').accessKeys;
    const id = 7000 + keys.size;
    keys.set(id, { id, text: key.text, label: key.label, permission: 'REPO_READ' });
  },
  deleteHook: (h, id) => h.dc.repository('ACME/web').hooks.delete(Number(id)),
  setHookEvents(h, id, events) {
    const hook = h.dc.repository('ACME/web').hooks.get(Number(id));
    if (hook) hook.events = events;
  },
  unsetHookSecret(h, id) {
    const hook = h.dc.repository('ACME/web').hooks.get(Number(id));
    if (hook) hook.configuration = {};
  },
  deleteKey: (h, id) => h.dc.repository('ACME/web').accessKeys.delete(Number(id)),
  revokeCredentials: (h) => h.dc.revoke(DC_TOKEN),
  removePipelineFile: (h) => h.dc.repository('ACME/web').files.get('main')?.delete(PIPELINE_FILE),
};

export const KITS = [cloudKit, dataCenterKit];

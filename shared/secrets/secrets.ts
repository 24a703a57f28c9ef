/** Where secret values live: Secrets Manager on AWS, a 0600 file in local mode. */
export interface SecretReader {
  /** The secret's string value, or undefined when there is no such secret. */
  get(id: string): Promise<string | undefined>;
}

/** A SecretReader that also writes: what the admin API and local set-up need. */
export interface SecretStore extends SecretReader {
  /** Creates the secret or stores a new value. */
  put(id: string, value: string): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Secret ids (DESIGN §7): one prefix per stage so IAM can grant each function its kinds. */
export const secretIds = {
  webhookSecret: (stage: string, integration: string) =>
    `hookgate/${stage}/integrations/${integration}/webhook-secret`,
  credentials: (stage: string, integration: string) =>
    `hookgate/${stage}/integrations/${integration}/credentials`,
  deployKey: (stage: string, projectId: string) => `hookgate/${stage}/projects/${projectId}/deploy-key`,
};

import * as z from 'zod/mini';
import { PROVIDERS } from '../domain/events';
import { INTEGRATION_NAME } from '../domain/names';
import { atMost, matches, oneOf } from '../validation';

export { INTEGRATION_NAME };

const Name = z
  .string()
  .check(
    matches(
      INTEGRATION_NAME,
      'must be a lowercase slug of 1 to 63 characters: a-z, 0-9 and "-", starting and ending with a letter or digit',
    ),
  );

const ProviderSchema = oneOf(PROVIDERS);
const NonEmpty = z.string().check(z.minLength(1));
const Anything = z.optional(z.unknown());

const Scope = z.union(
  [
    oneOf(['default']),
    z.strictObject({ space: z.string().check(matches(/^[\w.:-]{1,100}$/, 'must be a space id')) }),
  ],
  'must be "default" or {"space": "<space id>"}',
);

const Labels = z.array(z.string().check(z.minLength(1), atMost(100))).check(atMost(50, 'at most 50 labels'));
const Description = z.string().check(atMost(10_000));
// A known_hosts line with an RSA 8192 key is about 1,500 characters.
const KnownHosts = z
  .array(z.string().check(z.minLength(1), atMost(8_192)))
  .check(atMost(100, 'at most 100 known hosts lines'));

/** What creating and patching an integration share: `credentials` is checked by the REST client's parser. */
const Access = {
  baseUrl: z.optional(z.string()),
  sshKnownHosts: z.optional(KnownHosts),
  credentials: Anything,
};

/** `POST /admin/integrations`. */
export const CreateIntegrationSchema = z.strictObject({
  name: Name,
  provider: ProviderSchema,
  scope: Scope,
  labels: z._default(Labels, []),
  description: z._default(Description, ''),
  ...Access,
});

/** `PATCH /admin/integrations/{name}`; `credentials: null` removes them. Name and provider are refused earlier. */
export const PatchIntegrationSchema = z.strictObject({
  labels: z.optional(Labels),
  description: z.optional(Description),
  scope: z.optional(Scope),
  ...Access,
});

const Branch = z.string().check(matches(/^[^\s]{1,255}$/, 'must be a branch name'));

/**
 * The file runners start the pipeline from (carried in triggers, checked by health). A path inside
 * the repository: relative, no `.`/`..` or empty segments.
 */
const PipelineFile = z
  .string()
  .check(
    matches(
      /^(?!\/)(?!.*(?:^|\/)\.{1,2}(?:\/|$))(?!.*\/\/)[^\0]{1,255}$/,
      'must be a relative path inside the repository',
    ),
  );

/** `POST /admin/projects`. */
export const ConnectProjectSchema = z.strictObject({
  integration: NonEmpty,
  repository: z.string().check(z.minLength(3), atMost(512)),
  settings: Anything,
  repositoryId: z.optional(z.string().check(z.minLength(1), atMost(100))),
  defaultBranch: z.optional(Branch),
  pipelineFile: z.optional(PipelineFile),
  /** Without credentials: where runners clone from (derived for Cloud and DC HTTPS otherwise). */
  cloneUrls: z.optional(z.strictObject({ ssh: z.optional(z.string()), https: z.optional(z.string()) })),
});

/** `PATCH /admin/projects/{id}`: settings merge over the current ones (and are checked then). */
export const PatchProjectSchema = z.strictObject({
  // Any JSON object, as z.record(z.string(), z.unknown()) takes it, without bundling z.record.
  settings: z.optional(z.looseObject({})),
  /** `null` removes it. */
  pipelineFile: z.optional(z.nullable(PipelineFile)),
  defaultBranch: z.optional(Branch),
});

/** `POST /admin/projects/{id}/repair`. */
export const RepairSchema = z.strictObject({
  /** Regenerate the deploy key even when the current one is fine. */
  rotateDeployKey: z.optional(z.boolean()),
});

/** The most deliveries one page of `GET /admin/deliveries` holds (`limit`). */
export const MAX_DELIVERIES_PAGE = 100;

/** `POST /admin/evaluate`: a project, or settings and a default branch. */
export const EvaluateSchema = z.strictObject({
  eventKey: NonEmpty,
  payload: Anything,
  provider: z.optional(ProviderSchema),
  projectId: z.optional(NonEmpty),
  settings: Anything,
  defaultBranch: z.optional(Branch),
  state: Anything,
});

/**
 * `POST /admin/projects/{id}/builds`: one of `branch`, `tag` and `pullRequest` (checked by the
 * operation), the commit to build (else the ref's head, asked of Bitbucket), and the client's id
 * of this request, which makes a retry of it answer the same build.
 */
export const BuildRequestSchema = z.strictObject({
  branch: z.optional(Branch),
  tag: z.optional(z.string().check(matches(/^[^\s]{1,255}$/, 'must be a tag name'))),
  /** Its number: a positive whole number (checked by the operation). */
  pullRequest: z.optional(z.number()),
  commit: z.optional(
    z.string().check(matches(/^[0-9a-fA-F]{7,64}$/, 'must be a commit hash (7 to 64 hex digits)')),
  ),
  requestId: z.optional(
    z
      .string()
      .check(
        matches(
          /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
          'must be 1 to 100 letters, digits, ".", "_", ":" or "-", starting with a letter or digit',
        ),
      ),
  ),
});

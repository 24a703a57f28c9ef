import type { EvaluateAnswer } from '../../shared/admin/views';
import { AdminConnectionError, type AdminRequest, type AdminResponse } from '../admin-client';
import { decisionsTable } from '../admin-format';
import { CommandFailedError, UsageError } from '../errors';
import { EVALUATE_OPTIONS, evaluateInputs } from '../evaluate';
import { send } from './call';
import { type AdminDeps, connect, NoAdminTokenError } from './connect';
import { str, type Values, type Verb } from './verb';

const FLAGS = {
  eventKey: '--event-key',
  projectId: '--project-id',
  defaultBranch: '--default-branch',
  settings: '--settings',
  state: '--state',
  provider: '--provider',
  payload: '<payload.json>',
};

/** `POST /admin/evaluate` for a payload file and the options of `hookgate evaluate`. */
export async function evaluateRequest(payloadPath: string, values: Values): Promise<AdminRequest> {
  const projectId = str(values, 'project-id');
  if (projectId && (values.settings !== undefined || values['default-branch'] !== undefined)) {
    throw new UsageError(
      "--project-id brings the project's own settings and default branch: leave out --settings and --default-branch (change them with `hookgate admin projects set`)",
    );
  }
  const inputs = await evaluateInputs(payloadPath, values);
  return {
    method: 'POST',
    path: '/admin/evaluate',
    body: {
      eventKey: inputs.eventKey,
      payload: inputs.payload,
      ...(inputs.provider ? { provider: inputs.provider } : {}),
      ...(projectId ? { projectId } : {}),
      ...(inputs.settings === undefined ? {} : { settings: inputs.settings }),
      ...(inputs.defaultBranch === undefined ? {} : { defaultBranch: inputs.defaultBranch }),
      ...(inputs.state === undefined ? {} : { state: inputs.state }),
    },
  };
}

/**
 * `hookgate evaluate --project-id`: the service's own answer, from the admin API, with the
 * project's settings, default branch and open pull requests. Throws CommandFailedError (exit 1)
 * when the API cannot be reached, as the answer would not be the service's without them.
 */
export async function evaluateForProject(
  payloadPath: string,
  values: Values,
  deps: AdminDeps = {},
): Promise<EvaluateAnswer> {
  const request = await evaluateRequest(payloadPath, values);
  const unreachable = (reason: string, cause: unknown) =>
    new CommandFailedError(
      `--project-id takes the project's settings, default branch and open pull requests from the admin API, which cannot be reached: ${reason}`,
      { cause },
    );
  let client: Awaited<ReturnType<typeof connect>>['client'];
  try {
    ({ client } = await connect(values, deps));
  } catch (error) {
    if (error instanceof NoAdminTokenError) throw unreachable(error.message, error);
    throw error;
  }
  try {
    const { body } = (await send(client, request, FLAGS)) as AdminResponse<EvaluateAnswer>;
    return body;
  } catch (error) {
    if (error instanceof CommandFailedError && error.cause instanceof AdminConnectionError) {
      throw unreachable(`${error.message} (is \`hookgate dev\` running? or pass --endpoint)`, error);
    }
    throw error;
  }
}

/** `hookgate admin evaluate`: the decisions as a table, or the API's answer with --json. */
export const EVALUATE_VERB: Verb = {
  args: ['payload.json'],
  options: EVALUATE_OPTIONS,
  synopsis:
    '--event-key <key>\n[--project-id <id> | [--settings <file.json>] [--default-branch <name>]]\n[--provider bitbucket-cloud|bitbucket-data-center] [--state <file.json>]',
  about: [
    'What the service decides for a payload, with no side effects (POST /admin/evaluate). With',
    "--project-id: the project's settings, default branch and open pull requests, as the service",
    'decided it; --state replaces the pull requests. Without: --settings, --default-branch [main].',
  ],
  flags: FLAGS,
  request: ({ args, values }) => evaluateRequest(args['payload.json'] ?? '', values),
  render: ({ body }: AdminResponse<EvaluateAnswer>) =>
    body.decisions.length === 0 ? 'no decisions\n' : decisionsTable(body.decisions),
};

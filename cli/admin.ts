import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { send } from './admin/call';
import { type AdminDeps, connect, type Terminal } from './admin/connect';
import { DELIVERY_VERBS } from './admin/deliveries';
import { EVALUATE_VERB } from './admin/evaluate';
import { INTEGRATION_VERBS } from './admin/integrations';
import { PROJECT_VERBS } from './admin/projects';
import { type Call, CONNECTION_OPTIONS, CONNECTION_USAGE, type OptionSpec, type Verb } from './admin/verb';
import { CommandFailedError, optionErrorOf, UsageError } from './errors';

export type { AdminDeps } from './admin/connect';

const RESOURCES: Record<string, Record<string, Verb>> = {
  integrations: INTEGRATION_VERBS,
  projects: PROJECT_VERBS,
  deliveries: DELIVERY_VERBS,
};

/** Verbs with no resource: `hookgate admin evaluate <payload.json>`. */
const STANDALONE: Record<string, Verb> = { evaluate: EVALUATE_VERB };

const OUTPUT_OPTIONS: Record<string, OptionSpec> = { json: { type: 'boolean' } };

/** `<name> [--label L]...`: a verb's arguments and options, continuation lines indented by `indent`. */
function synopsisOf(verb: Verb, indent: string): string {
  const args = verb.args.map((arg) => `<${arg}>`).join(' ');
  const options = (verb.synopsis ?? '').split('\n').join(`\n${indent}`);
  return [args, options].filter(Boolean).join(' ').replace(/ +\n/g, '\n');
}

function verbLines(): string[] {
  const lines: string[] = [];
  for (const [resource, verbs] of Object.entries(RESOURCES)) {
    for (const [name, verb] of Object.entries(verbs)) {
      lines.push(`    ${resource} ${name} ${synopsisOf(verb, '        ')}`.trimEnd());
    }
  }
  for (const [name, verb] of Object.entries(STANDALONE)) {
    lines.push(`    ${name} ${synopsisOf(verb, '        ')}`.trimEnd());
  }
  return lines;
}

const COMMAND_LIST = [...Object.keys(RESOURCES), ...Object.keys(STANDALONE)].join('|');

export const ADMIN_USAGE = `usage: hookgate admin <${COMMAND_LIST}> [<verb>] [arguments] [--json]
${verbLines().join('\n')}
  where and how (every verb):
${CONNECTION_USAGE}
    --json             print the API's answer as it came (for scripts)
  hookgate admin <resource> <verb> --help says more about one verb.`;

/** The usage of one verb, what it does, and the connection options every verb takes. */
function verbUsage(command: string, verb: Verb): string {
  const head = `usage: hookgate admin ${command} ${synopsisOf(verb, '    ')}`.trimEnd();
  return [
    head,
    ...(verb.about ?? []).map((line) => `  ${line}`),
    '  where and how:',
    CONNECTION_USAGE,
    "    --json             print the API's answer as it came (for scripts)",
  ].join('\n');
}

/** `--help` anywhere: the verb's usage when resource and verb are known, else the whole usage. */
export function adminHelp(argv: readonly string[]): string {
  const { resource, verbName } = splitCommand([...argv]);
  const standalone = resource && Object.hasOwn(STANDALONE, resource) ? STANDALONE[resource] : undefined;
  if (resource && standalone) return verbUsage(resource, standalone);
  const verbs = resource && Object.hasOwn(RESOURCES, resource) ? RESOURCES[resource] : undefined;
  const verb = verbs && verbName && Object.hasOwn(verbs, verbName) ? verbs[verbName] : undefined;
  if (verb) return verbUsage(`${resource} ${verbName}`, verb);
  return ADMIN_USAGE;
}

/**
 * `hookgate admin`: one admin API call against a deployed stack (SigV4) or the local one
 * (admin token). Exit 1 with one line when the API refuses or cannot be reached.
 */
export async function runAdmin(
  argv: string[],
  out: (text: string) => void,
  deps: AdminDeps = {},
): Promise<void> {
  const { resource, verbName, rest, help } = splitCommand(argv);
  if (help) {
    out(`${adminHelp(argv)}\n`);
    return;
  }
  const { verb, command } = findVerb(resource, verbName);
  let parsed: ReturnType<typeof parseVerb>;
  try {
    parsed = parseVerb(rest, verb);
  } catch (error) {
    throw optionErrorOf(error, `admin ${command}`) ?? error;
  }
  const { values, positionals } = parsed;
  const synopsis = `hookgate admin ${command} ${verb.args.map((a) => `<${a}>`).join(' ')}`.trimEnd();
  if (positionals.length < verb.args.length) {
    throw new UsageError(`missing <${verb.args[positionals.length]}>: ${synopsis}`);
  }
  if (positionals.length > verb.args.length) {
    throw new UsageError(`unexpected argument "${positionals[verb.args.length]}": ${synopsis}`);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || (Array.isArray(value) && value.includes('')))
      throw new UsageError(`--${name} must not be empty`);
  }
  const args = Object.fromEntries(verb.args.map((name, i) => [name, positionals[i] ?? '']));
  const call: Call = { args, values };
  const request = await verb.request(call);
  const { client } = await connect(values, deps);
  if (verb.confirm && !values.yes) await confirm(verb.confirm(call), deps.terminal ?? processTerminal());

  const response = await send(client, request, verb.flags);
  if (values.json) {
    if (response.text) out(response.text.endsWith('\n') ? response.text : `${response.text}\n`);
    return;
  }
  const text = verb.render(response, call);
  out(text.endsWith('\n') ? text : `${text}\n`);
}

function parseVerb(argv: string[], verb: Verb) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...CONNECTION_OPTIONS, ...OUTPUT_OPTIONS, ...verb.options },
  });
}

function findVerb(
  resource: string | undefined,
  verbName: string | undefined,
): { verb: Verb; command: string } {
  if (resource && Object.hasOwn(STANDALONE, resource)) {
    return { verb: STANDALONE[resource] as Verb, command: resource };
  }
  const verbs = resource && Object.hasOwn(RESOURCES, resource) ? RESOURCES[resource] : undefined;
  if (!verbs) {
    throw new UsageError(
      `${resource ? `unknown resource "${resource}"` : 'missing the resource'}: hookgate admin <${COMMAND_LIST}> <verb> (see hookgate admin --help)`,
    );
  }
  const verb = verbName && Object.hasOwn(verbs, verbName) ? verbs[verbName] : undefined;
  if (!verb) {
    throw new UsageError(
      `${verbName ? `unknown verb "${verbName}"` : 'missing the verb'} for ${resource} (try: ${Object.keys(verbs).join(', ')})`,
    );
  }
  return { verb, command: `${resource} ${verbName}` };
}

/**
 * Asks `question` in a terminal and goes on only on yes. Without a terminal (a script, a pipe)
 * nothing is asked: scripts that delete keep working as before.
 */
async function confirm(question: string, terminal: Terminal): Promise<void> {
  if (!terminal.interactive) return;
  const answer = await terminal.ask(`${question} [y/N] `);
  if (!/^\s*y(es)?\s*$/i.test(answer)) throw new CommandFailedError('cancelled: nothing was changed');
}

/** The process's own terminal: interactive when stdin and stderr are both a TTY. */
function processTerminal(): Terminal {
  return {
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    async ask(question) {
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await prompt.question(question);
      } finally {
        prompt.close();
      }
    },
  };
}

/**
 * The resource and verb are the first two positionals wherever options stand
 * (`hookgate admin --json integrations list` works too); the rest is parsed per verb. A verb
 * with no resource (`evaluate`) is the first positional alone.
 */
function splitCommand(argv: string[]): {
  resource?: string;
  verbName?: string;
  rest: string[];
  help: boolean;
} {
  const options: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h' } };
  const verbs = [
    ...Object.values(RESOURCES).flatMap((some) => Object.values(some)),
    ...Object.values(STANDALONE),
  ];
  for (const verb of verbs) Object.assign(options, verb.options);
  Object.assign(options, CONNECTION_OPTIONS, OUTPUT_OPTIONS);
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const [first, second] = tokens.filter((token) => token.kind === 'positional');
  const help = tokens.some((token) => token.kind === 'option' && token.name === 'help');
  const alone = first && Object.hasOwn(STANDALONE, first.value);
  const verb = alone ? undefined : second;
  return {
    ...(first ? { resource: first.value } : {}),
    ...(verb ? { verbName: verb.value } : {}),
    rest: argv.filter((_, i) => i !== first?.index && i !== verb?.index),
    help,
  };
}

// The `batuta` program: commander with every command group registered on it. To add a group, write
// program/<group>.ts exporting `register<Group>(program, state)` and add it to GROUPS; to add a verb to
// a group, add one `.command(…)` to that group's file. Each command declares only its own options.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAuth } from './auth.js';
import { registerCompletion } from './completion.js';
import { registerDaemons } from './daemons.js';
import { registerDags } from './dags.js';
import { registerDb } from './db.js';
import { registerEvents } from './events.js';
import { registerPredictions } from './predictions.js';
import { registerRuns } from './runs.js';
import { registerServing } from './serving.js';
import type { RunState } from './shared.js';
import { registerStatus } from './status.js';
import { registerTasks } from './tasks.js';

/** Registers one group (or top-level command) on the program. */
export type RegisterGroup = (program: Command, state: RunState) => void;

/** Every group, in the order of the help. */
export const GROUPS: readonly RegisterGroup[] = [
  registerDaemons,
  registerDags,
  registerRuns,
  registerTasks,
  registerEvents,
  registerStatus,
  registerPredictions,
  registerServing,
  registerAuth,
  registerDb,
  registerCompletion,
];

/** Help is wrapped at a fixed width, so it reads (and is tested) the same on every terminal. */
const HELP_WIDTH = 100;

/** The version of @batuta/cli (its package.json, next to src/ and dist/). */
export function cliVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Where commander's own text (help, usage errors) goes. */
export interface ProgramOutput {
  out(text: string): void;
  err(text: string): void;
}

/** Commander's text through the console, as every command prints (one trailing newline less). */
const CONSOLE_OUTPUT: ProgramOutput = {
  out: (text) => console.log(text.endsWith('\n') ? text.slice(0, -1) : text),
  err: (text) => console.error(text.endsWith('\n') ? text.slice(0, -1) : text),
};

/** Builds a fresh program (commander keeps parse state on it, so one per `main` call). */
export function buildProgram(
  state: RunState,
  output: ProgramOutput = CONSOLE_OUTPUT,
  groups: readonly RegisterGroup[] = GROUPS,
): Command {
  const configured = { writeOut: output.out, writeErr: output.err };
  const program = new Command('batuta')
    .description('batuta — an Airflow-style workflow scheduler and orchestrator for TypeScript')
    .version(cliVersion(), '-V, --version', 'print the version')
    .helpCommand('help [command]', 'help for a command')
    .configureHelp({ helpWidth: HELP_WIDTH, showGlobalOptions: false })
    .configureOutput(configured)
    .showSuggestionAfterError(true)
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failed or invalid, 2 usage error, 3 not found, 4 Redis unreachable.
Run 'batuta <command> --help' for a command's options, 'batuta <group> --help' for a group's commands.`,
    );
  for (const register of groups) register(program, state);
  for (const command of allCommands(program)) {
    // Settings commander copies only to commands created after them: set them on every command.
    // Commander's "error: …" reads as every other error of the CLI: "batuta dags test: …".
    const prefix = `${commandPath(command)}: `;
    command
      .exitOverride()
      .showSuggestionAfterError(true)
      .configureOutput({ ...configured, outputError: (text, write) => write(text.replace(/^error: /, prefix)) })
      .showHelpAfterError(`Run '${commandPath(command)} --help' for usage.`);
    // Descriptions are written as prose over several lines: one paragraph, wrapped by commander to the
    // help width (an indented line is kept as written).
    command.description(command.description().replace(/\n(?![\n ])/g, ' '));
    if (command.commands.length > 0 && command !== program) command.helpCommand(false);
  }
  program.hook('preAction', (_program, actionCommand) => {
    state.command = commandPath(actionCommand).replace(/^batuta /, '');
  });
  return program;
}

/** The program and every command under it. */
export function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** `batuta dags validate` for the validate command. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

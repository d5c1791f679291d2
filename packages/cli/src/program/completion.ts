// `batuta completion bash|zsh|fish`: a completion script generated from the program itself, so every
// command and option registered is completed without a hand-kept list.
import { Argument, type Command } from 'commander';
import { action, type RunState } from './shared.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** One completion context: the words typed so far that select it, and what may follow them. */
interface Context {
  /** '' for the top level, 'dags' for a group, 'dags validate' or 'status' for a command. */
  key: string;
  /** A command that takes options only (a leaf): any later word keeps this context. */
  leaf: boolean;
  words: { name: string; description: string }[];
}

function visible(command: Command): Command[] {
  return command.commands.filter((c) => c.name() !== 'help');
}

function optionWords(command: Command): Context['words'] {
  return [
    ...command.options.filter((o) => o.long && !o.hidden).map((o) => ({ name: o.long!, description: o.description })),
    { name: '--help', description: 'show help' },
  ];
}

/** Every completion context of the program, top level first. */
export function completionContexts(program: Command): Context[] {
  const top = visible(program);
  const contexts: Context[] = [
    {
      key: '',
      leaf: false,
      words: [...top.map((c) => ({ name: c.name(), description: c.summary() })), ...optionWords(program)],
    },
  ];
  for (const command of top) {
    const verbs = visible(command);
    if (verbs.length === 0) {
      contexts.push({ key: command.name(), leaf: true, words: optionWords(command) });
      continue;
    }
    contexts.push({
      key: command.name(),
      leaf: false,
      words: verbs.map((v) => ({ name: v.name(), description: v.summary() })),
    });
    for (const verb of verbs)
      contexts.push({ key: `${command.name()} ${verb.name()}`, leaf: true, words: optionWords(verb) });
  }
  return contexts;
}

function bash(contexts: Context[]): string {
  const cases = contexts.map(({ key, leaf, words }) => {
    const pattern = key === '' ? "''" : leaf && !key.includes(' ') ? `'${key}'|'${key} '*` : `'${key}'`;
    return `    ${pattern}) words='${words.map((w) => w.name).join(' ')}' ;;`;
  });
  return `# batuta completion for bash: eval "$(batuta completion bash)"
_batuta() {
  local cur=\${COMP_WORDS[COMP_CWORD]} key words=''
  if (( COMP_CWORD == 1 )); then key=''
  elif (( COMP_CWORD == 2 )); then key=\${COMP_WORDS[1]}
  else key="\${COMP_WORDS[1]} \${COMP_WORDS[2]}"; fi
  case "$key" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _batuta batuta
`;
}

function zsh(contexts: Context[]): string {
  const cases = contexts.map(({ key, leaf, words }) => {
    const pattern = key === '' ? "''" : leaf && !key.includes(' ') ? `'${key}'|'${key} '*` : `'${key}'`;
    return `    ${pattern}) choices=(${words.map((w) => w.name).join(' ')}) ;;`;
  });
  return `#compdef batuta
# batuta completion for zsh: batuta completion zsh > "\${fpath[1]}/_batuta" (or eval it after compinit)
_batuta() {
  local key
  local -a choices
  if (( CURRENT == 2 )); then key=''
  elif (( CURRENT == 3 )); then key=\${words[2]}
  else key="\${words[2]} \${words[3]}"; fi
  case "$key" in
${cases.join('\n')}
  esac
  if (( \${#choices} > 0 )); then compadd -- \${choices[@]}; else _files; fi
}
compdef _batuta batuta
`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fish(contexts: Context[]): string {
  const lines = ['# batuta completion for fish: batuta completion fish | source', 'complete -c batuta -f'];
  for (const context of contexts) {
    const [group, verb] = context.key.split(' ');
    let condition: string;
    if (context.key === '') condition = '__fish_use_subcommand';
    else if (verb) condition = `__fish_seen_subcommand_from ${group}; and __fish_seen_subcommand_from ${verb}`;
    else if (context.leaf) condition = `__fish_seen_subcommand_from ${group}`;
    else {
      const verbs = contexts.filter((c) => c.key.startsWith(`${group} `)).map((c) => c.key.split(' ')[1]);
      condition = `__fish_seen_subcommand_from ${group}; and not __fish_seen_subcommand_from ${verbs.join(' ')}`;
    }
    for (const word of context.words) {
      const what = word.name.startsWith('--') ? `-l ${word.name.slice(2)}` : `-a ${word.name}`;
      lines.push(`complete -c batuta -n ${fishQuote(condition)} ${what} -d ${fishQuote(word.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Registers `completion SHELL` on the program. */
export function registerCompletion(program: Command, state: RunState): void {
  program
    .command('completion')
    .summary('print a shell completion script (bash, zsh, fish)')
    .description(
      `Prints a completion script for the shell. Install it with:
  bash:  echo 'eval "$(batuta completion bash)"' >> ~/.bashrc
  zsh:   batuta completion zsh > "\${fpath[1]}/_batuta"
  fish:  batuta completion fish > ~/.config/fish/completions/batuta.fish`,
    )
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action(
      action(state, async (shell: Shell) => {
        const contexts = completionContexts(program);
        const script = shell === 'bash' ? bash(contexts) : shell === 'zsh' ? zsh(contexts) : fish(contexts);
        console.log(script.trimEnd());
        return 0;
      }),
    );
}

// `dlms-bridge` entry point (bin/dlms-bridge.js imports the compiled file): one table of subcommands, each a module
// exporting main(argv) => exit status, loaded on demand so a missing or broken command cannot break the others.
import { EXIT_FAILURE, EXIT_USAGE, isParseArgsError } from "./args.js";

interface CommandModule {
  main(argv: string[]): Promise<number>;
}

interface Command {
  summary: string;
  /** Module path relative to this file; a non-literal import so a command not yet written does not break the build. */
  module: string;
}

const COMMANDS: Record<string, Command> = {
  read: { summary: "read objects from one meter (technician tool)", module: "./read.js" },
  sim: { summary: "run the meter simulator", module: "./sim.js" },
  run: { summary: "run the bridge (meters -> MQTT)", module: "./run.js" },
  verify: { summary: "check a running deployment end to end", module: "./verify.js" },
};

export const USAGE = `usage: dlms-bridge <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join("\n")}

'dlms-bridge <command> --help' shows the options of a command.`;

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`dlms-bridge: unknown command '${name}'\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  let module: CommandModule;
  try {
    module = (await import(command.module)) as CommandModule;
  } catch (error) {
    if (isMissingModule(error, command.module)) {
      console.error(`dlms-bridge: unknown command '${name}' (not available in this build)`);
      return EXIT_USAGE;
    }
    console.error(`dlms-bridge ${name}: cannot load the command: ${messageOf(error)}`);
    return EXIT_FAILURE;
  }
  try {
    return await module.main(rest);
  } catch (error) {
    if (isParseArgsError(error)) {
      console.error(`dlms-bridge ${name}: ${error.message}\nrun 'dlms-bridge ${name} --help' for usage`);
      return EXIT_USAGE;
    }
    console.error(`dlms-bridge ${name}: ${messageOf(error)}`);
    return EXIT_FAILURE;
  }
}

function isMissingModule(error: unknown, module: string): boolean {
  const code = (error as { code?: string }).code;
  const file = module.replace(/^\.\//, "").replace(/\.js$/, "");
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && messageOf(error).includes(file);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

process.exitCode = await runCli(process.argv.slice(2));

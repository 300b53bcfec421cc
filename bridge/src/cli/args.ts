// Helpers shared by the CLI subcommands: option parsing that names the culprit, .env reading, output streams.
import { readFileSync } from "node:fs";
import { parse as parseDotenv } from "dotenv";

/** Bad command-line input: the CLI prints the message and a pointer to --help, and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where a command writes; tests pass collectors, the CLI passes process.stdout/stderr. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** parseArgs errors (unknown option, missing value) carry a code starting with ERR_PARSE_ARGS. */
export function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && String((error as { code?: unknown }).code ?? "").startsWith("ERR_PARSE_ARGS");
}

/** An integer option within [min, max]; undefined stays undefined. */
export function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

/** A string option restricted to `choices`. */
export function choiceOption<T extends string>(
  name: string,
  text: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got '${text}'`);
  }
  return text as T;
}

/** Variables of a .env file (dotenv syntax). A missing file is a UsageError naming it. */
export function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`cannot read env file '${path}'${code ? ` (${code})` : ""}`);
  }
  return parseDotenv(text);
}

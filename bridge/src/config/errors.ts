/** Invalid configuration; `errors` lists every problem found, each naming its variable. Never holds a secret. */
export class ConfigError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
    this.name = "ConfigError";
  }
}

/** Replaces each occurrence of a secret in `text` (a last line of defence for messages that quote input). */
export function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("***");
  return out;
}

// Shared readers for the stack tests: the compose file, the env files and the service configs, from the repository.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export function repoPath(...parts: string[]): string {
  return join(REPO, ...parts);
}

export function readText(...parts: string[]): string {
  return readFileSync(repoPath(...parts), "utf8");
}

export function readJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readText(...parts)) as T;
}

export function readYaml<T = unknown>(...parts: string[]): T {
  return parseYaml(readText(...parts)) as T;
}

export function exists(...parts: string[]): boolean {
  return existsSync(repoPath(...parts));
}

export interface EnvFileEntry {
  name: string;
  value: string;
  /** true for `#NAME=value` example lines, false for active assignments. */
  commented: boolean;
  line: number;
}

/** Assignments of a dotenv-style file, active ones and commented-out `#NAME=value` examples. */
export function parseEnvFile(text: string): EnvFileEntry[] {
  const entries: EnvFileEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(raw.trim());
    if (match) entries.push({ name: match[2]!, value: match[3]!, commented: match[1] !== undefined, line: index + 1 });
  });
  return entries;
}

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  env_file?: string | Array<string | { path: string; required?: boolean | string }>;
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type: string; source?: string; target: string; read_only?: boolean }>;
  ports?: Array<string | number | { host_ip?: string; target: number | string; published?: string | number }>;
  depends_on?: string[] | Record<string, { condition: string; required?: boolean }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  restart?: string;
  user?: string;
  profiles?: string[];
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(): ComposeFile {
  return readYaml<ComposeFile>("docker-compose.yml");
}

export function envFiles(service: ComposeService): Array<{ path: string; required: boolean }> {
  const list =
    service.env_file === undefined ? [] : Array.isArray(service.env_file) ? service.env_file : [service.env_file];
  return list.map((item) =>
    typeof item === "string"
      ? { path: item, required: true }
      : { path: item.path, required: item.required !== false && item.required !== "false" },
  );
}

export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((item) => {
        const at = item.indexOf("=");
        return at < 0 ? [item, ""] : [item.slice(0, at), item.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

export interface Mount {
  source: string;
  target: string;
  bind: boolean;
  readOnly: boolean;
}

/** Short (`src:dst[:mode]`) and long volume syntax; bind = the source is a path (starts with . or /). */
export function mountsOf(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume === "string") {
      const [source = "", target = "", mode = ""] = volume.split(":");
      return { source, target, bind: /^[./~]/.test(source), readOnly: mode.split(",").includes("ro") };
    }
    const source = volume.source ?? "";
    return { source, target: volume.target, bind: volume.type === "bind", readOnly: volume.read_only === true };
  });
}

/** MQTT topic filter matching (`+` one level, `#` the rest), as the broker and the gateway apply it. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** `${a.b}` expressions of a gateway converter string. */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]!);
}

/** Resolves a gateway `${path}` expression (dotted path) in a JSON payload; undefined when absent. */
export function resolveExpression(payload: unknown, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

// docker-compose.yml checked without Docker: against the Compose Specification schema, and for what `make up` relies
// on (paths, ports on loopback, healthchecks, who holds the ThingsBoard token).
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import {
  type ComposeService,
  envFiles,
  environmentOf,
  exists,
  loadCompose,
  mountsOf,
  parseEnvFile,
  readJson,
  readText,
} from "./stack-files.js";

const compose = loadCompose();
const services = compose.services;
const TOKEN = "TB_GW_ACCESS_TOKEN";

/** A compose env_file path as the repository holds it: .env and gateway.env are created from their *.example. */
function committedEnvFile(path: string): string {
  const clean = path.replace(/^\.\//, "");
  return clean === ".env" || clean.endsWith("/gateway.env") || clean.endsWith("/grafana.env")
    ? `${clean}.example`
    : clean;
}

describe("docker-compose.yml", () => {
  it("is valid against the Compose Specification schema", () => {
    const schema = readJson<Record<string, unknown>>("bridge", "test", "stack", "fixtures", "compose-spec.json");
    delete schema.$schema; // the upstream https:// meta-schema URI is not one ajv registers; draft-07 is the default
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? [], ajv.errorsText(validate.errors)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the schema rejects what it should (the fixture is not a no-op)", () => {
    const schema = readJson<Record<string, unknown>>("bridge", "test", "stack", "fixtures", "compose-spec.json");
    delete schema.$schema;
    const validate = new Ajv({ strict: false }).compile(schema);
    expect(validate({ services: { a: { image: "x", restart_policy: "always" } } })).toBe(false);
    expect(validate({ services: { a: { depends_on: { b: { condition: "service_ready" } } } } })).toBe(false);
    expect(validate({ services: { a: { image: "x" } }, volumes: { data: null } })).toBe(true);
  });

  it("has the services of the architecture", () => {
    expect(Object.keys(services).sort()).toEqual(
      ["bridge", "grafana", "mosquitto", "prometheus", "simulator", "tb-gateway", "thingsboard"].sort(),
    );
    expect(services.thingsboard?.profiles).toEqual(["thingsboard"]);
  });

  it("every bind-mounted path, build context, Dockerfile and env file exists in the repository", () => {
    const missing: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const mount of mountsOf(service)) {
        if (mount.bind && !exists(mount.source)) missing.push(`${name}: volume ${mount.source}`);
        if (!mount.bind && !(mount.source in (compose.volumes ?? {})))
          missing.push(`${name}: named volume ${mount.source} not declared`);
      }
      if (service.build !== undefined) {
        const build = typeof service.build === "string" ? { context: service.build } : service.build;
        const context = build.context ?? ".";
        if (!exists(context)) missing.push(`${name}: build context ${context}`);
        if (!exists(context, build.dockerfile ?? "Dockerfile")) missing.push(`${name}: dockerfile ${build.dockerfile}`);
      }
      for (const file of envFiles(service)) {
        if (!exists(committedEnvFile(file.path))) missing.push(`${name}: env_file ${file.path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("uses pinned images (an explicit version tag, never latest)", () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      expect(service.image, name).toMatch(/^[a-z0-9./-]+:v?\d+(\.\d+)+$/);
    }
  });

  it("publishes ports on 127.0.0.1 only", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        const text = typeof port === "object" ? `${port.host_ip ?? ""}:${port.published}:${port.target}` : `${port}`;
        expect(text, `${name} publishes ${text}`).toMatch(/^127\.0\.0\.1:\d+(-\d+)?:\d+(-\d+)?$/);
      }
    }
  });

  it("gives every service a healthcheck and a restart policy, and waits on healthy dependencies", () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      expect(service.healthcheck?.disable, name).not.toBe(true);
      expect(service.restart, `${name} restart`).toMatch(/^(unless-stopped|always|on-failure)/);
      const deps = service.depends_on ?? {};
      expect(Array.isArray(deps), `${name}: depends_on needs conditions`).toBe(false);
      for (const [dep, spec] of Object.entries(deps as Record<string, { condition: string }>)) {
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        if (spec.condition === "service_healthy") expect(services[dep]?.healthcheck, dep).toBeDefined();
      }
    }
    expect(services.bridge?.depends_on).toMatchObject({ mosquitto: { condition: "service_healthy" } });
    expect(services["tb-gateway"]?.depends_on).toMatchObject({ mosquitto: { condition: "service_healthy" } });
  });

  it("gives every service a memory and a pids limit, each documented in docs/operations.md", () => {
    const doc = readText("docs", "operations.md");
    const table = doc.slice(doc.indexOf("## Memory and pids limits"));
    expect(table.length).toBeGreaterThan(100);
    for (const [name, service] of Object.entries(services)) {
      const { mem_limit: mem, pids_limit: pids } = service as { mem_limit?: string; pids_limit?: number };
      expect(mem, `${name} mem_limit`).toMatch(/^\d+[mg]$/);
      expect(pids, `${name} pids_limit`).toBeGreaterThanOrEqual(32);
      expect(table, `${name}'s limits in the docs`).toMatch(new RegExp(`\\| \`${name}\` \\| ${mem} \\| ${pids} \\|`));
    }
  });

  it("wires the bridge to Mosquitto, its database to a volume and its metrics to 9464", () => {
    const bridge = services.bridge as ComposeService;
    const env = environmentOf(bridge);
    expect(env.MQTT_URL).toBe("mqtt://mosquitto:1884");
    expect(env.DB_PATH).toBe("/data/bridge.db");
    expect(mountsOf(bridge)).toContainEqual(expect.objectContaining({ target: "/data", bind: false }));
    expect(bridge.ports).toContain("127.0.0.1:9464:9464");
    expect(envFiles(bridge).map((f) => f.path)).toEqual([".env"]);
    expect(bridge.build).toMatchObject({ context: ".", dockerfile: "bridge/Dockerfile" });
  });

  it("runs three simulated meters from the bridge image, one per port, the ones .env.example reads", () => {
    const sim = services.simulator as ComposeService;
    expect(sim.command).toEqual([
      "node",
      "bin/dlms-bridge.js",
      "sim",
      "--count",
      "3",
      "--port",
      "4059",
      "--host",
      "0.0.0.0",
    ]);
    expect(sim.image).toBe(services.bridge?.image);
    expect(sim.ports).toEqual(["127.0.0.1:4059-4061:4059-4061"]);
    const lines = parseEnvFile(readText(".env.example")).filter((e) => /^METER_SIM\d+$/.test(e.name));
    expect(lines.map((m) => [m.name, m.value, m.commented])).toEqual([
      ["METER_SIM1", "hdlc://simulator:4059?client=16&server=1&interval=10s", false],
      ["METER_SIM2", "hdlc://simulator:4060?client=16&server=1&interval=10s", true],
      ["METER_SIM3", "hdlc://simulator:4061?client=16&server=1&interval=10s", true],
    ]);
    // Every simulated meter has its own port: two METER_ lines on one would share its single association.
    const ports = lines.map((m) => new URL(m.value).port);
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe("the ThingsBoard token", () => {
  const gateway = services["tb-gateway"] as ComposeService;

  it("reaches no container but tb-gateway", () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === "tb-gateway") continue;
      expect(Object.keys(environmentOf(service)), name).not.toContain(TOKEN);
      expect(JSON.stringify(service.environment ?? {}), name).not.toContain(TOKEN);
      for (const file of envFiles(service)) {
        expect(file.path, `${name} must not read the gateway's secrets`).not.toMatch(/gateway\.env$/);
        const entries = parseEnvFile(readText(committedEnvFile(file.path)));
        const active = entries.filter((e) => !e.commented).map((e) => e.name);
        expect(active, `${name} gets ${file.path}, which must not assign ${TOKEN}`).not.toContain(TOKEN);
      }
    }
  });

  it("is only in tb-gateway's own env file, which git ignores", () => {
    expect(envFiles(gateway)).toEqual([{ path: "./tb-gateway/gateway.env", required: false }]);
    expect(parseEnvFile(readText("tb-gateway", "gateway.env.example"))).toContainEqual(
      expect.objectContaining({ name: TOKEN, value: "", commented: false }),
    );
    expect(readText("tb-gateway", ".gitignore").split("\n")).toContain("gateway.env");
    const env = environmentOf(gateway);
    expect(env).toMatchObject({ TB_GW_HOST: `\${TB_GW_HOST:-thingsboard}`, TB_GW_PORT: `\${TB_GW_PORT:-1883}` });
  });

  it("is never baked into the gateway's committed configuration", () => {
    const tb = readJson<{ thingsboard: { security: { type: string; accessToken: string } } }>(
      "tb-gateway",
      "config",
      "tb_gateway.json",
    );
    expect(tb.thingsboard.security.type).toBe("accessToken");
    expect(tb.thingsboard.security.accessToken).toMatch(/^SET_TB_GW_ACCESS_TOKEN/);
  });
});

describe("the Grafana admin password", () => {
  it("reaches only grafana, from a git-ignored env file of its own that make env creates with a random value", () => {
    expect(envFiles(services.grafana!)).toEqual([{ path: "./grafana/grafana.env", required: true }]);
    expect(readText("grafana", ".gitignore").split("\n")).toContain("grafana.env");
    expect(parseEnvFile(readText("grafana", "grafana.env.example"))).toContainEqual(
      expect.objectContaining({ name: "GF_SECURITY_ADMIN_PASSWORD", value: "", commented: false }),
    );
    for (const [name, service] of Object.entries(services)) {
      const env = JSON.stringify(service.environment ?? {});
      expect(env, name).not.toMatch(/GRAFANA_ADMIN_PASSWORD|GF_SECURITY_ADMIN_PASSWORD/);
      if (name === "grafana") continue;
      for (const file of envFiles(service)) {
        expect(file.path, name).not.toMatch(/grafana\.env$/);
        const names = parseEnvFile(readText(committedEnvFile(file.path))).map((e) => e.name);
        expect(names, `${name} gets ${file.path}`).not.toContain("GRAFANA_ADMIN_PASSWORD");
        expect(names, `${name} gets ${file.path}`).not.toContain("GF_SECURITY_ADMIN_PASSWORD");
      }
    }
    const makefile = readText("Makefile");
    expect(makefile).toContain("grafana/grafana.env");
    expect(makefile).toMatch(/tr -dc 'A-Za-z0-9' <\/dev\/urandom/);
  });
});

describe("image build context", () => {
  it("the root .dockerignore lets in what bridge/Dockerfile copies and keeps secrets out", () => {
    const ignore = readText(".dockerignore")
      .split("\n")
      .filter((l) => l.trim() && !l.startsWith("#"));
    expect(ignore[0]).toBe("**");
    for (const needed of [
      "!package.json",
      "!package-lock.json",
      "!bridge/package.json",
      "!bridge/src/**",
      "!bridge/bin/**",
    ])
      expect(ignore).toContain(needed);
    expect(ignore.some((l) => l.includes(".env"))).toBe(false); // never re-included
    const dockerfile = readText("bridge", "Dockerfile");
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "bin\/dlms-bridge.js", "run"\]$/m);
    expect(dockerfile).toContain("/healthz");
  });
});

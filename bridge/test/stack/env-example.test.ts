// .env.example: every variable the bridge reads is documented, every meter line (examples included) is accepted by
// the real config loader, and nothing in it is a secret.
import { describe, expect, it } from "vitest";
import { ENV, loadConfig } from "../../src/config/index.js";
import { parseEnvFile, readText } from "./stack-files.js";

const text = readText(".env.example");
const entries = parseEnvFile(text);
const names = new Set(entries.map((e) => e.name));
const composeText = readText("docker-compose.yml");

describe(".env.example", () => {
  it("documents every global variable of the bridge's config schema", () => {
    for (const variable of Object.values(ENV)) {
      expect(names.has(variable.name), `${variable.name} missing`).toBe(true);
      // ...with a comment line that names it right above its assignment
      const at = entries.find((e) => e.name === variable.name)!.line;
      const comment = text.split("\n")[at - 2] ?? "";
      expect(comment.startsWith("#"), `${variable.name} has no comment above it`).toBe(true);
    }
  });

  it("documents every variable docker-compose.yml interpolates (except the gateway token, see below)", () => {
    const interpolated = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::?[-?][^}]*)?\}/g)].map((m) => m[1]!);
    expect(interpolated.length).toBeGreaterThan(0);
    for (const name of new Set(interpolated)) expect(names.has(name), name).toBe(true);
    expect(text).toMatch(/^# TB_GW_ACCESS_TOKEN: NOT in this file/m);
  });

  it("is accepted by the bridge's config loader, with the simulated meter enabled", () => {
    const active = Object.fromEntries(entries.filter((e) => !e.commented).map((e) => [e.name, e.value]));
    const result = loadConfig(active);
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    expect(result.config.meters.map((m) => m.id)).toEqual(["sim1"]);
    expect(result.config.meters[0]).toMatchObject({
      transport: "hdlc",
      host: "simulator",
      port: 4059,
      intervalMs: 10_000,
    });
  });

  it("every commented meter example is valid too (Microstar-style LLS meter on channel 1, wrapper meter)", () => {
    const meters = entries.filter((e) => e.name.startsWith("METER_"));
    const examples = Object.fromEntries(meters.map((e) => [e.name, e.value]));
    const result = loadConfig(examples);
    expect(result.ok ? [] : result.errors).toEqual([]);
    if (!result.ok) return;
    const byId = Object.fromEntries(result.config.meters.map((m) => [m.id, m]));
    expect(Object.keys(byId).sort()).toEqual(["house", "idis", "pv", "sim1", "sim2", "sim3"]);
    expect(byId.idis).toMatchObject({
      transport: "wrapper",
      clientAddress: 1,
      auth: "hls-gmac",
      hls: { security: "auth-enc", systemTitle: "4252494447453031", ic: "auto" },
    });
    expect(byId.house).toMatchObject({ clientAddress: 1, auth: "low", serverPhysical: 1234, password: "00000000" });
    expect(byId.house!.registers.map((r) => r.obis)).toContain("1.1.32.7.0.255");
    expect(byId.house!.registers.every((r) => r.obis.startsWith("1.1."))).toBe(true);
    expect(byId.pv).toMatchObject({ transport: "wrapper", clientAddress: 16 });
  });

  it("holds no real secret: empty or placeholder passwords, no token at all", () => {
    for (const e of entries) {
      if (/TOKEN/.test(e.name)) expect.fail(`${e.name} must not be in .env.example (line ${e.line})`);
      if (/PASSWORD$/.test(e.name) && !e.commented) expect(e.value, e.name).toMatch(/^(|change-me.*)$/);
      if (/PASSWORD$/.test(e.name) && e.commented) expect(e.value, e.name).toMatch(/^(|0+)$/);
      // Only the Green Book's published example keys, commented out.
      if (/_(AUTH|BLOCK)_KEY$/.test(e.name)) {
        expect(e.commented, e.name).toBe(true);
        expect(["D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF", "000102030405060708090A0B0C0D0E0F"]).toContain(e.value);
      }
    }
    // The Grafana password lives in grafana/grafana.env: .env reaches the bridge's environment whole.
    expect(entries.find((e) => e.name === "GRAFANA_ADMIN_PASSWORD")).toBeUndefined();
    // nothing that looks like a ThingsBoard access token (20 alphanumerics) or a private key
    expect(text).not.toMatch(/\b[A-Za-z0-9]{20}\b/);
    expect(text).not.toMatch(/PRIVATE KEY/);
  });

  it("only uses documentation addresses for the example meters", () => {
    for (const e of entries.filter((x) => x.commented && x.name.startsWith("METER_") && x.value.includes("://"))) {
      expect(e.value, e.name).toMatch(/:\/\/(192\.0\.2\.\d+|simulator):/); // RFC 5737 TEST-NET-1, or the compose simulator
    }
  });
});

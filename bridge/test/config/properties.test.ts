import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, normalizeObis, parseMeterUrl } from "../../src/config/index.js";

const group = fc.integer({ min: 0, max: 255 });

describe("config properties", () => {
  it("every written form of an OBIS code normalises to the same dotted code", () => {
    fc.assert(
      fc.property(group, group, group, group, group, group, (a, b, c, d, e, f) => {
        const dotted = `${a}.${b}.${c}.${d}.${e}.${f}`;
        expect(normalizeObis(`${a}-${b}:${c}.${d}.${e}*${f}`)).toBe(dotted);
        expect(normalizeObis(`${a}-${b}:${c}.${d}.${e}.${f}`)).toBe(dotted);
        expect(normalizeObis(dotted)).toBe(dotted);
        if (f === 255) expect(normalizeObis(`${a}-${b}:${c}.${d}.${e}`)).toBe(dotted);
      }),
    );
  });

  it("a meter rendered as a URL parses back to the same values", () => {
    const meter = fc.record({
      transport: fc.constantFrom("hdlc", "wrapper"),
      host: fc.domain(),
      port: fc.integer({ min: 1, max: 65535 }),
      client: fc.integer({ min: 0, max: 127 }),
      server: fc.integer({ min: 0, max: 127 }),
      intervalS: fc.integer({ min: 1, max: 3600 }),
      timeoutMs: fc.integer({ min: 1, max: 60_000 }),
      password: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(meter, (m) => {
        const auth = m.password === undefined ? "none" : "low";
        const url = `${m.transport}://${m.host}:${m.port}?client=${m.client}&server=${m.server}&auth=${auth}&interval=${m.intervalS}s&timeout=${m.timeoutMs}ms`;
        const env = m.password === undefined ? {} : { METER_X_PASSWORD: m.password };
        expect(parseMeterUrl("X", url, env)).toMatchObject({
          id: "x",
          transport: m.transport,
          host: m.host,
          port: m.port,
          clientAddress: m.client,
          serverLogical: m.server,
          auth,
          ...(m.password === undefined ? {} : { password: m.password }),
          intervalMs: m.intervalS * 1000,
          timeoutMs: m.timeoutMs,
        });
      }),
    );
  });

  it("any text either parses or fails with a ConfigError that never holds the password", () => {
    const password = fc.stringMatching(/^[A-Za-z0-9]{8,16}$/);
    const params = fc.array(
      fc.constantFrom("client", "server", "port", "auth", "timeout", "registers", "x", "password"),
    );
    fc.assert(
      fc.property(fc.string(), password, params, fc.boolean(), (junk, secret, names, viaEnv) => {
        const query = names.map((name, i) => `${name}=${i % 2 ? secret : junk}`).join("&");
        const url = `hdlc://${i18n(junk)}:${secret}@h:${junk}?${query}&password=${secret}`;
        try {
          parseMeterUrl("m", url, viaEnv ? { METER_m_PASSWORD: secret } : {});
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as ConfigError).errors.join("\n")).not.toContain(secret);
          return;
        }
      }),
    );
  });
});

/** Keeps the host part free of characters that would end the authority early. */
function i18n(text: string): string {
  return text.replace(/[/?#@:]/g, "");
}

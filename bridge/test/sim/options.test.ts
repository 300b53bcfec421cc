import { describe, expect, it } from "vitest";
import { resolveOptions, SimulatorOptionsError } from "../../src/sim/options.js";
import { startSimulator } from "../../src/sim/server.js";

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof SimulatorOptionsError) return error.problems;
    throw error;
  }
  return [];
}

describe("simulator options", () => {
  it("defaults to one public-client HDLC meter on 4059, 120 s inactivity, multiple references", () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      transport: "hdlc",
      port: 4059,
      count: 1,
      inactivityTimeoutSeconds: 120,
      multipleReferences: true,
    });
    expect([...o.clients.keys()]).toEqual([16]);
    expect(resolveOptions({ transport: "wrapper" }).port).toBe(4060);
  });

  it("serves LLS on client SAPs 1 and 17 besides the public client when auth is low", () => {
    const o = resolveOptions({ auth: "low", password: "pw" });
    expect(o.clients.get(16)).toEqual({ mechanism: "none" });
    expect(o.clients.get(1)).toEqual({ mechanism: "low", password: new TextEncoder().encode("pw") });
    expect(o.clients.get(17)?.mechanism).toBe("low");
  });

  it("lists every bad option at once, by name", () => {
    const found = problems(() =>
      resolveOptions({ count: 0, auth: "low", port: 65_535, delayMs: -1, corruptFcsEvery: 0 }),
    );
    expect(found).toEqual([
      expect.stringContaining("count"),
      expect.stringContaining("auth low needs a password"),
      expect.stringContaining("delayMs"),
      expect.stringContaining("corruptFcsEvery"),
    ]);
  });

  it("refuses a port range past 65535 and more physical addresses than HDLC can carry", () => {
    expect(problems(() => resolveOptions({ port: 65_535, count: 2 }))).toEqual([
      expect.stringContaining("runs past 65535"),
    ]);
    expect(problems(() => resolveOptions({ count: 20_000, sharedPort: true, port: 0 }))).toEqual([
      expect.stringContaining("exceed 16383"),
    ]);
  });

  it("adds the wrapper only to an hdlc simulator", () => {
    expect(resolveOptions({ wrapperPort: 4060 }).wrapperPort).toBe(4060);
    expect(problems(() => resolveOptions({ transport: "wrapper", wrapperPort: 4061 }))).toEqual([
      expect.stringContaining("wrapperPort"),
    ]);
  });

  it("makes startSimulator reject before listening", async () => {
    await expect(startSimulator({ port: 0, count: -1 })).rejects.toBeInstanceOf(SimulatorOptionsError);
  });
});

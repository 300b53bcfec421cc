import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger", () => {
  it("writes JSON lines with the name and redacts passwords and tokens at any depth", () => {
    const { lines, stream } = capture();
    const log = createLogger("info", "bridge", stream);
    log.info(
      {
        password: "p1-secret",
        meter: { id: "m1", password: "p2-secret" },
        config: { mqtt: { password: "p3-secret", token: "t1-secret" } },
        list: { a: { b: { accessToken: "t2-secret" } } },
      },
      "started",
    );
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ name: "bridge", msg: "started", level: 30, meter: { id: "m1" } });
    expect(lines[0]).not.toMatch(/secret/);
    expect(entry.meter.password).toBe("[redacted]");
  });

  it("honours the level and refuses an unknown one", () => {
    const { lines, stream } = capture();
    const log = createLogger("warn", undefined, stream);
    log.info("hidden");
    log.warn("shown");
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["shown"]);
    expect(() => createLogger("loud")).toThrow("log level 'loud'");
  });
});

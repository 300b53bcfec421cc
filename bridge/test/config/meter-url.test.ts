import { describe, expect, it } from "vitest";
import { ConfigError, parseDuration, parseMeterUrl, REGISTER_SETS, withoutSecrets } from "../../src/config/index.js";

function problemsOf(id: string, url: string, env: Record<string, string> = {}): string[] {
  try {
    parseMeterUrl(id, url, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).errors;
  }
  throw new Error("expected a ConfigError");
}

describe("parseMeterUrl", () => {
  it("applies defaults to a bare hdlc URL", () => {
    const meter = parseMeterUrl("PLANT1", "hdlc://10.0.0.5:4059");
    expect(meter).toEqual({
      id: "plant1",
      transport: "hdlc",
      host: "10.0.0.5",
      port: 4059,
      clientAddress: 16,
      serverLogical: 1,
      auth: "none",
      intervalMs: 10_000,
      timeoutMs: 5_000,
      registers: REGISTER_SETS.default,
    });
  });

  it("reads a wrapper meter with every option", () => {
    const meter = parseMeterUrl(
      "w-2",
      "wrapper://meter.local:4060?client=1&server=17&interval=2m&timeout=500ms&registers=three-phase",
    );
    expect(meter).toMatchObject({ id: "w-2", transport: "wrapper", host: "meter.local", port: 4060 });
    expect(meter).toMatchObject({ clientAddress: 1, serverLogical: 17, intervalMs: 120_000, timeoutMs: 500 });
    expect(meter.registers.map((r) => r.key)).toContain("reactive_power");
    expect(meter.registers.find((r) => r.key === "voltage_l3")?.obis).toBe("1.0.72.7.0.255");
  });

  it("reads a Microstar-style meter in one line with its password from METER_<ID>_PASSWORD", () => {
    const meter = parseMeterUrl(
      "MS1",
      "hdlc://10.0.0.5:4059?client=1&physical=1234&auth=low&registers=voltage:1-1:32.7.0,current:1-1:31.7.0",
      { METER_MS1_PASSWORD: "s3cr3t&+%" },
    );
    expect(meter).toMatchObject({ clientAddress: 1, serverLogical: 1, serverPhysical: 1234, auth: "low" });
    expect(meter.password).toBe("s3cr3t&+%");
    expect(meter.registers).toEqual([
      { key: "voltage", obis: "1.1.32.7.0.255", classId: 3, attributeId: 2 },
      { key: "current", obis: "1.1.31.7.0.255", classId: 3, attributeId: 2 },
    ]);
    expect(JSON.stringify(withoutSecrets(meter))).not.toContain("s3cr3t");
  });

  it("lets METER_<ID>_PASSWORD override password= in the URL", () => {
    const meter = parseMeterUrl("M", "hdlc://h:1?auth=low&password=fromurl", { METER_M_PASSWORD: "fromenv" });
    expect(meter.password).toBe("fromenv");
  });

  it("accepts OBIS in every written form, with class and attribute", () => {
    const meter = parseMeterUrl(
      "m",
      "hdlc://h:1?registers=a:1-0:32.7.0*255,b:1.0.31.7.0.255:3:3,c:1.0.14.7.0,d:1-1:1.8.0:4:2,e:0-0:96.1.0:1",
    );
    expect(meter.registers).toEqual([
      { key: "a", obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 },
      { key: "b", obis: "1.0.31.7.0.255", classId: 3, attributeId: 3 },
      { key: "c", obis: "1.0.14.7.0.255", classId: 3, attributeId: 2 },
      { key: "d", obis: "1.1.1.8.0.255", classId: 4, attributeId: 2 },
      { key: "e", obis: "0.0.96.1.0.255", classId: 1, attributeId: 2 },
    ]);
  });

  it("expands a set name inside a register list", () => {
    const meter = parseMeterUrl("m", "hdlc://h:1?registers=default,power_factor:1.0.13.7.0.255");
    expect(meter.registers.map((r) => r.key)).toEqual([...REGISTER_SETS.default!.map((r) => r.key), "power_factor"]);
  });

  it("reports every problem of one line together, each naming the variable", () => {
    const problems = problemsOf(
      "PLANT1",
      "tcp://10.0.0.5:abc?client=x&auth=low&interval=10&registers=voltage:1.0.32.7,voltage:1.0.32.7.0.255,ts:1.0.1.8.0.255&colour=red",
    );
    expect(problems.every((p) => p.startsWith("METER_PLANT1: "))).toBe(true);
    expect(problems).toEqual(
      expect.arrayContaining([
        "METER_PLANT1: transport 'tcp' is not supported (use hdlc or wrapper)",
        "METER_PLANT1: port 'abc' is not a number",
        expect.stringContaining("client 'x'"),
        expect.stringContaining("auth=low needs a password: set METER_PLANT1_PASSWORD"),
        expect.stringContaining("interval '10' is not a duration"),
        expect.stringContaining("register 'voltage': OBIS code '1.0.32.7'"),
        expect.stringContaining("register key 'ts' is reserved"),
        expect.stringContaining("unknown parameter 'colour'"),
      ]),
    );
  });

  it("names duplicate register keys and an unknown register set", () => {
    expect(problemsOf("m", "hdlc://h:1?registers=default,voltage:1.0.32.7.0.255")).toContain(
      "METER_m: register key 'voltage' is used more than once",
    );
    expect(problemsOf("m", "hdlc://h:1?registers=defualt")[0]).toContain("unknown register set 'defualt'");
  });

  it("refuses bad ids, missing ports, out-of-range addresses and hdlc-only options on the wrapper", () => {
    expect(problemsOf("bad.id", "hdlc://h:1")[0]).toContain("meter id 'bad.id'");
    expect(problemsOf("m", "hdlc://h")).toEqual([expect.stringContaining("port is missing")]);
    expect(problemsOf("m", "hdlc://h:70000")).toEqual(["METER_m: port 70000 is outside 1..65535"]);
    expect(problemsOf("m", "hdlc://h:1?client=200")[0]).toContain("client '200' is not an integer in 0..127");
    expect(problemsOf("m", "wrapper://h:1?physical=5")[0]).toContain("apply to hdlc only");
    expect(problemsOf("m", "hdlc://h:1?physical=1234&address_size=2")[0]).toContain("does not fit");
  });

  it("reads max_reply (bytes, k or M) and deadline, and refuses values that cannot bound anything", () => {
    const meter = parseMeterUrl("m", "hdlc://h:1?max_reply=64k&deadline=20s&timeout=2s");
    expect(meter).toMatchObject({ maxReplyBytes: 65_536, deadlineMs: 20_000, timeoutMs: 2000 });
    expect(parseMeterUrl("m", "hdlc://h:1?max_reply=1M").maxReplyBytes).toBe(1_048_576);
    expect(parseMeterUrl("m", "hdlc://h:1?max_reply=4096").maxReplyBytes).toBe(4096);
    expect(parseMeterUrl("m", "hdlc://h:1")).not.toHaveProperty("maxReplyBytes");
    expect(problemsOf("m", "hdlc://h:1?max_reply=12")).toEqual([
      "METER_m: max_reply '12' is not between 1024 and 16777216 bytes",
    ]);
    expect(problemsOf("m", "hdlc://h:1?max_reply=lots")[0]).toContain("max_reply 'lots' is not a size in bytes");
    expect(problemsOf("m", "hdlc://h:1?max_reply=1G")[0]).toContain("max_reply '1G' is not a size in bytes");
    expect(problemsOf("m", "hdlc://h:1?deadline=1s&timeout=5s")).toEqual([
      "METER_m: deadline '1s' is shorter than the per-step timeout (5000 ms)",
    ]);
    expect(problemsOf("m", "hdlc://h:1?deadline=30")[0]).toContain("deadline '30' is not a duration");
  });

  it("never puts a password in an error, wherever it was written", () => {
    const secret = "Pa55word";
    const cases: Array<[string, Record<string, string>]> = [
      [`hdlc://h:abc?auth=none&password=${secret}`, {}],
      [`hdlc://h:1?auth=low&password=${secret}&x=1&port=${secret}`, {}],
      [`hdlc://h:1?auth=low&password=ab&${secret}=1`, {}],
      [`hdlc://user:${secret}@h:1?auth=low`, {}],
      [`hdlc://h:1?auth=bogus&timeout=${secret}`, { METER_m_PASSWORD: secret }],
      [`hdlc://h:1?auth=low&registers=${secret}`, { METER_m_PASSWORD: secret }],
    ];
    for (const [url, env] of cases) {
      const problems = problemsOf("m", url, env);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.join("\n")).not.toContain(secret);
    }
  });
});

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["10s", 10_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["7d", 604_800_000],
    ["1.5s", 1500],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["10", "", "s", "-1s", "0s", "10 sec"])("refuses '%s'", (text) => {
    expect(() => parseDuration(text)).toThrow(/duration|longer than 0ms/);
  });
});

describe("issue 8 §4: bounds and escapes", () => {
  it("refuses an interval or a timeout beyond 24 h, naming the parameter (Node's timers would overflow)", () => {
    expect(problemsOf("m", "hdlc://h:1?interval=99999999999h")).toEqual([
      "METER_m: interval '99999999999h' is longer than the maximum of 24h",
    ]);
    expect(problemsOf("m", "hdlc://h:1?timeout=25h")).toEqual([
      "METER_m: timeout '25h' is longer than the maximum of 24h",
    ]);
    expect(problemsOf("m", "hdlc://h:1?interval=2d")).toEqual([
      "METER_m: interval '2d' is longer than the maximum of 24h",
    ]);
    expect(parseMeterUrl("m", "hdlc://h:1?interval=24h&timeout=1h")).toMatchObject({
      intervalMs: 86_400_000,
      timeoutMs: 3_600_000,
    });
  });

  it("refuses an invalid %-escape in password= without quoting the password", () => {
    for (const password of ["S3cret%ZZ", "S3cret%", "S3cret%4", "S3cret%FF"]) {
      const problems = problemsOf("m", `hdlc://h:1?auth=low&password=${password}`);
      expect(problems).toEqual([
        "METER_m: password= holds an invalid %-escape (write '%' as %25, or put the password unencoded in METER_m_PASSWORD)",
      ]);
      expect(problems.join("\n")).not.toContain("S3cret");
    }
    // Valid escapes decode; the variable takes the password unencoded.
    expect(parseMeterUrl("m", "hdlc://h:1?auth=low&password=S3cret%25ZZ%26").password).toBe("S3cret%ZZ&");
    expect(parseMeterUrl("m", "hdlc://h:1?auth=low", { METER_m_PASSWORD: "S3cret%ZZ" }).password).toBe("S3cret%ZZ");
  });

  it("refuses an invalid %-escape in any other parameter, quoting it", () => {
    expect(problemsOf("m", "hdlc://h:1?registers=volt%ZZ:1.0.32.7.0.255")[0]).toBe(
      "METER_m: registers='volt%ZZ:1.0.32.7.0.255' holds an invalid %-escape (write '%' as %25)",
    );
  });
});

// The publisher with broker credentials: connects with the right ones; with wrong ones it keeps the readings and
// its log names the failure without the password.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/registry.js";
import { Outbox } from "../../src/outbox/outbox.js";
import { MqttPublisher } from "../../src/publish/mqtt-publisher.js";
import { openDatabase } from "../../src/store/db.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import { tempDbPath } from "../store/temp-db.js";
import { waitFor } from "./helpers.js";

const PASSWORD = "br0ker-pa55-secret";

describe("MqttPublisher with broker credentials", () => {
  let broker: MosquittoHandle;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mosquitto-auth-"));
    const passwordFile = join(dir, "passwd");
    writeFileSync(passwordFile, "");
    execFileSync("mosquitto_passwd", ["-b", passwordFile, "bridge", PASSWORD]);
    // Started as root, mosquitto drops to its own user, which must be able to read the file.
    chmodSync(dir, 0o755);
    chmodSync(passwordFile, 0o644);
    broker = await startMosquitto({ extraConfig: `allow_anonymous false\npassword_file ${passwordFile}` });
  });
  afterAll(async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function attempt(password: string) {
    const temp = tempDbPath();
    const db = openDatabase(temp.path);
    const outbox = new Outbox(db, { maxRows: 100 });
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const metrics = createMetrics({ defaultMetrics: false });
    const publisher = new MqttPublisher(
      { url: broker.url, clientId: `auth-${password.length}`, username: "bridge", password, reconnectPeriodMs: 100 },
      outbox,
      metrics,
      createLogger("debug", "publisher", sink),
    );
    outbox.enqueue([{ meter: "m1", ts: 1, values: { voltage: 230 } }]);
    publisher.start();
    return {
      publisher,
      outbox,
      lines,
      metrics,
      async close() {
        await publisher.stop(200);
        await db.close();
        temp.cleanup();
      },
    };
  }

  it("connects with the right password and delivers", async () => {
    const run = await attempt(PASSWORD);
    try {
      await waitFor(() => run.outbox.pending() === 0, "delivery");
      expect(await run.metrics.registry.getSingleMetricAsString("dlms_bridge_mqtt_connected")).toMatch(/ 1$/m);
      expect(run.lines.join("")).not.toContain(PASSWORD);
    } finally {
      await run.close();
    }
  });

  it("with a wrong password keeps the reading and logs why, never the password", async () => {
    const wrong = "wr0ng-pa55-secret";
    const run = await attempt(wrong);
    try {
      await waitFor(
        () => run.lines.some((line) => /Not authorized|Bad user name or password/i.test(line)),
        "the error",
      );
      expect(run.publisher.connected).toBe(false);
      expect(run.outbox.pending()).toBe(1);
      expect(run.lines.join("")).not.toContain(wrong);
    } finally {
      await run.close();
    }
  });
});

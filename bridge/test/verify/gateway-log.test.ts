// verify's reading of the ThingsBoard gateway's log, on lines as gateway 3.8.3 writes them with
// tb-gateway/config/logs.json's format, as `docker compose logs tb-gateway` shows them.
import { describe, expect, it } from "vitest";
import {
  analyseGatewayLog,
  deliveryVerdict,
  disconnectVerdict,
  parseStatisticsLine,
} from "../../src/verify/gateway-log.js";

const PREFIX = "tb-gateway-1  | ";
const STATS_AT =
  "2026-12-02 14:31:05.412 - |INFO| - [statistics_service.py] - statistics_service - __send_statistics - 234 - ";

function statsLine(service: { pulled: number; pushed: number; ts: number }, received?: number): string {
  const connectors =
    received === undefined
      ? "{}"
      : `{'DLMS bridge (Mosquitto)': {'connectorMsgsReceived': ${received}, 'connectorBytesReceived': ${received * 171}}}`;
  return (
    `${PREFIX}${STATS_AT}Collected regular statistics: {'machineStats': {'totalCpuUsage': 2.4, 'diskUsage': 41.3, ` +
    `'freeMemory': 1432.7, 'freeDisk': 18.22, 'gwProcessCpuUsage': 0.6, 'gwMemory': 92.1, ` +
    `'gwProcessMemoryFullInfo': 'pfullmem(rss=96587776, vms=1190551552, shared=20258816, text=4096, lib=0, data=170430464, dirty=0, uss=81129472, pss=84250624, swap=0)'}, ` +
    `'serviceStats': {'storageMsgPulled': ${service.pulled}, 'storageMsgCount': 0, 'platformMsgPushed': ${service.pushed}, ` +
    `'platformAttrProduced': 0, 'platformTsProduced': ${service.ts}, 'msgsSentToPlatform': 1, 'msgsReceivedFromPlatform': 1}, ` +
    `'connectorsStats': ${connectors}}`
  );
}

const STARTUP = [
  "2026-12-02 14:30:01.101 - |INFO| - [tb_gateway_service.py] - tb_gateway_service - __init__ - 205 - Gateway starting...",
  "2026-12-02 14:30:01.880 - |INFO| - [tb_loader.py] - tb_loader - import_module - 67 - Import JsonMqttUplinkConverter from /thingsboard_gateway/connectors/mqtt.",
  "2026-12-02 14:30:01.905 - |INFO| - [tb_client.py] - tb_client - connect - 448 - Connecting to ThingsBoard...",
  "2026-12-02 14:30:02.010 - |INFO| - [mqtt_connector.py] - mqtt_connector - _on_connect - 540 - MQTT Connector DLMS bridge (Mosquitto) connected to mosquitto:1884 - successfully.",
].map((l) => PREFIX + l);

/** A report logged by gateway 3.8.3 (run from its source with tb-gateway/config, 3 meters at 2 s, 60 s period). */
const REAL_REPORT = `tb-gateway-1  | 2026-12-02 15:20:03.777 - |INFO| - [statistics_service.py] - statistics_service - __send_statistics - 234 - Collected regular statistics: {'machineStats': {'totalCpuUsage': 1040.14, 'diskUsage': 27.1, 'freeMemory': 14.0, 'freeDisk': '74.0G', 'gwProcessCpuUsage': 5.0, 'gwMemory': 0.2, 'gwProcessMemoryFullInfo': {'rss': 53145600, 'vms': 1251266560, 'shared': 20283392, 'text': 2834432, 'lib': 0, 'data': 214065152, 'dirty': 0, 'uss': 49188864, 'pss': 50209792, 'swap': 0}, 'msgsSentToPlatform': 69, 'msgsReceivedFromPlatform': 12}, 'serviceStats': {'storageMsgPulled': 70, 'storageMsgCount': 0, 'platformMsgPushed': 70, 'platformAttrProduced': 6, 'platformTsProduced': 224}, 'connectorsStats': {'DLMS bridge (Mosquitto)': {'storageMsgPushed': 130, 'connectorMsgsReceived': 60, 'connectorBytesReceived': 9741}, 'DLMS bridge (Mosquitto)_converter': {'convertersMsgProcessed': 60, 'convertersAttrProduced': 0, 'convertersTsProduced': 210}}}`;

describe("gateway statistics lines", () => {
  it("reads a report as 3.8.3 logs it (nested machine stats, a converter entry per connector)", () => {
    expect(parseStatisticsLine(REAL_REPORT)).toEqual({
      at: "2026-12-02 15:20:03",
      platformMsgPushed: 70,
      platformTsProduced: 224,
      storageMsgPulled: 70,
      connectorMsgsReceived: 60,
    });
  });

  it("reads the service counters and sums the connectors' received messages", () => {
    expect(parseStatisticsLine(statsLine({ pulled: 30, pushed: 30, ts: 150 }, 30))).toEqual({
      at: "2026-12-02 14:31:05",
      platformMsgPushed: 30,
      platformTsProduced: 150,
      storageMsgPulled: 30,
      connectorMsgsReceived: 30,
    });
    expect(parseStatisticsLine(STARTUP[1]!)).toBeUndefined();
  });

  it("takes no counter from machineStats or a connector named like a counter", () => {
    const line = statsLine({ pulled: 0, pushed: 0, ts: 0 }).replace(
      "'connectorsStats': {}",
      "'connectorsStats': {'platformTsProduced': {'connectorMsgsReceived': 4}}",
    );
    expect(parseStatisticsLine(line)).toMatchObject({ platformTsProduced: 0, connectorMsgsReceived: 4 });
  });
});

describe("delivery verdict", () => {
  it("start-up lines alone (the old false positive: 'Import JsonMqttUplinkConverter') prove nothing", () => {
    const v = deliveryVerdict(analyseGatewayLog(STARTUP.join("\n")), 10);
    expect(v).toMatchObject({ ok: true, skipped: true });
    expect(v.detail).toMatch(/^skipped: no "Collected regular statistics:" line in the last 10 min/);
  });

  it("passes on telemetry data points acknowledged by ThingsBoard, summed over the reports", () => {
    const log = [
      ...STARTUP,
      statsLine({ pulled: 18, pushed: 18, ts: 90 }, 18),
      statsLine({ pulled: 6, pushed: 6, ts: 30 }, 6),
    ];
    const v = deliveryVerdict(analyseGatewayLog(log.join("\n")), 10);
    expect(v.ok).toBe(true);
    expect(v.skipped).toBeUndefined();
    expect(v.detail).toContain("ThingsBoard acknowledged 120 telemetry data point(s) in 24 message(s)");
  });

  it("fails when the connector received readings and ThingsBoard acknowledged none", () => {
    const log = [
      ...STARTUP,
      statsLine({ pulled: 0, pushed: 0, ts: 0 }, 12),
      statsLine({ pulled: 0, pushed: 0, ts: 0 }, 6),
    ];
    const v = deliveryVerdict(analyseGatewayLog(log.join("\n")), 10);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain("received 18 message(s) from Mosquitto but ThingsBoard acknowledged no telemetry");
  });

  it("fails when reports show nothing received and nothing delivered", () => {
    const v = deliveryVerdict(analyseGatewayLog(statsLine({ pulled: 0, pushed: 0, ts: 0 })), 10);
    expect(v.ok).toBe(false);
    expect(v.detail).toMatch(/^no message from Mosquitto reached/);
  });
});

describe("code-7 verdict", () => {
  const code7 = `${PREFIX}2026-12-02 14:32:10.002 - |WARNING| - [tb_device_mqtt.py] - tb_device_mqtt - _on_disconnect - 412 - MQTT client was disconnected with reason code 7 (Connection lost)`;

  it("is skipped, never ✔, for a gateway never seen connected to ThingsBoard (e.g. no gateway at all)", () => {
    for (const log of ["", STARTUP.join("\n"), statsLine({ pulled: 0, pushed: 0, ts: 0 }, 5)]) {
      const v = disconnectVerdict(analyseGatewayLog(log), 10);
      expect(v).toMatchObject({ ok: true, skipped: true });
      expect(v.detail).toMatch(/^skipped: no evidence .* connected to ThingsBoard/);
    }
  });

  it("passes for a connected gateway without disconnects", () => {
    const v = disconnectVerdict(
      analyseGatewayLog([...STARTUP, statsLine({ pulled: 5, pushed: 5, ts: 25 }, 5)].join("\n")),
      10,
    );
    expect(v).toEqual({ ok: true, detail: "none while connected (ThingsBoard acknowledged 5 message(s))" });
  });

  it("fails on a code-7 line, citing it, whatever else the log shows", () => {
    for (const log of [[code7], [statsLine({ pulled: 5, pushed: 5, ts: 25 }, 5), code7]]) {
      const v = disconnectVerdict(analyseGatewayLog(log.join("\n")), 10);
      expect(v.ok).toBe(false);
      expect(v.detail).toContain("reason code 7 (Connection lost)");
    }
    // rc 70 or a result code 0 is no code 7
    const other = analyseGatewayLog("MQTT client connected with result code 0\nfailed with code 70");
    expect(other.disconnects).toEqual([]);
  });
});

// What the ThingsBoard gateway's log proves, for `verify`. At INFO the gateway logs nothing per message; the evidence
// is its periodic statistics line (3.8.x statistics_service.py, every `statsSendPeriodInSeconds`):
//   ... - Collected regular statistics: {'machineStats': {...}, 'serviceStats': {..., 'platformMsgPushed': 12,
//        'platformTsProduced': 60, ...}, 'connectorsStats': {'<connector>': {'connectorMsgsReceived': 12, ...}}}
// a Python dict repr, not JSON. platformMsgPushed / platformTsProduced count device messages and telemetry data
// points of the gateway's storage that ThingsBoard acknowledged (the gateway's own statistics are sent outside the
// storage and are not counted); the counters reset after each report.

/** Lines of the gateway log that mean the gateway lost its ThingsBoard session (paho rc 7 = connection lost). */
export const GATEWAY_DISCONNECT_PATTERN = /code 7\b|\brc[ =:]*7\b|unexpected disconnect|disconnected from thingsboard/i;

const STATISTICS_MARKER = "Collected regular statistics:";

export interface GatewayStatistics {
  /** The log line's own timestamp text, when it has one. */
  at?: string;
  platformMsgPushed: number;
  platformTsProduced: number;
  storageMsgPulled: number;
  /** Summed over every connector of the report. */
  connectorMsgsReceived: number;
}

export interface GatewayLogAnalysis {
  statistics: GatewayStatistics[];
  disconnects: string[];
  /** Sums over all reports. */
  msgPushed: number;
  tsProduced: number;
  received: number;
}

function numbers(text: string, key: string): number[] {
  return [...text.matchAll(new RegExp(`'${key}': (\\d+(?:\\.\\d+)?)`, "g"))].map((m) => Number(m[1]));
}

/** One statistics report from its log line; undefined for any other line. */
export function parseStatisticsLine(line: string): GatewayStatistics | undefined {
  const at = line.indexOf(STATISTICS_MARKER);
  if (at < 0) return undefined;
  const body = line.slice(at + STATISTICS_MARKER.length);
  const service = /'serviceStats': \{([^}]*)\}/.exec(body)?.[1] ?? "";
  const connectorsAt = body.indexOf("'connectorsStats':");
  const connectors = connectorsAt < 0 ? "" : body.slice(connectorsAt);
  const first = (key: string) => numbers(service, key)[0] ?? 0;
  return {
    at: /\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/.exec(line)?.[0],
    platformMsgPushed: first("platformMsgPushed"),
    platformTsProduced: first("platformTsProduced"),
    storageMsgPulled: first("storageMsgPulled"),
    connectorMsgsReceived: numbers(connectors, "connectorMsgsReceived").reduce((a, b) => a + b, 0),
  };
}

export function analyseGatewayLog(log: string): GatewayLogAnalysis {
  const lines = log.split("\n");
  const statistics = lines.map(parseStatisticsLine).filter((s): s is GatewayStatistics => s !== undefined);
  const sum = (key: keyof Omit<GatewayStatistics, "at">) => statistics.reduce((a, s) => a + s[key], 0);
  return {
    statistics,
    disconnects: lines.filter((l) => !l.includes(STATISTICS_MARKER) && GATEWAY_DISCONNECT_PATTERN.test(l)),
    msgPushed: sum("platformMsgPushed"),
    tsProduced: sum("platformTsProduced"),
    received: sum("connectorMsgsReceived"),
  };
}

export interface GatewayVerdict {
  ok: boolean;
  skipped?: boolean;
  detail: string;
}

/** "The gateway converted and sent messages": only ThingsBoard's acknowledgements count. */
export function deliveryVerdict(a: GatewayLogAnalysis, sinceMinutes: number): GatewayVerdict {
  const reports = `${a.statistics.length} statistics report(s)`;
  if (a.tsProduced > 0)
    return {
      ok: true,
      detail: `ThingsBoard acknowledged ${a.tsProduced} telemetry data point(s) in ${a.msgPushed} message(s) (${reports}; the connector received ${a.received} message(s) from Mosquitto)`,
    };
  if (a.statistics.length === 0)
    return {
      ok: true,
      skipped: true,
      detail: `skipped: no "${STATISTICS_MARKER}" line in the last ${sinceMinutes} min, so delivery cannot be proven (thingsboard.statistics in tb-gateway/config/tb_gateway.json; reports every statsSendPeriodInSeconds)`,
    };
  if (a.received > 0)
    return {
      ok: false,
      detail: `the connector received ${a.received} message(s) from Mosquitto but ThingsBoard acknowledged no telemetry (${reports}): token in tb-gateway/gateway.env, TB_GW_HOST/TB_GW_PORT`,
    };
  return {
    ok: false,
    detail: `no message from Mosquitto reached the gateway's connector and none was acknowledged by ThingsBoard (${reports})`,
  };
}

/** "Zero code 7": meaningful only for a gateway that was connected to ThingsBoard. */
export function disconnectVerdict(a: GatewayLogAnalysis, sinceMinutes: number): GatewayVerdict {
  if (a.disconnects.length > 0) return { ok: false, detail: a.disconnects.slice(0, 3).join(" | ") };
  if (a.msgPushed === 0)
    return {
      ok: true,
      skipped: true,
      detail: `skipped: no evidence in the last ${sinceMinutes} min that the gateway was connected to ThingsBoard (no statistics report with platformMsgPushed > 0)`,
    };
  return {
    ok: true,
    detail: `none while connected (ThingsBoard acknowledged ${a.msgPushed} message(s))`,
  };
}

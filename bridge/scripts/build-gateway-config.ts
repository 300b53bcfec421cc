// Writes tb-gateway/config/mqtt.json from bridge/src/publish/gateway-connector.ts:
//   npm run -w bridge gateway-config
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gatewayConnectorJson } from "../src/publish/gateway-connector.js";

const target = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "tb-gateway", "config", "mqtt.json");
writeFileSync(target, gatewayConnectorJson());
process.stdout.write(`wrote ${target}\n`);

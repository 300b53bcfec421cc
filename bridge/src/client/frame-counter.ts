// The meter's invocation counter object (IDIS: 0.0.43.1.0.255, class 1 Data), read through the public client so a
// ciphered association can start above it (ic=auto). Shared by `run` and `read`.
import { parseObis } from "../dlms/cosem/obis.js";
import type { Transport } from "../transport/types.js";
import { DlmsClient } from "./client.js";
import type { LinkSettings } from "./types.js";

export const FRAME_COUNTER = { classId: 1, instanceId: parseObis("0.0.43.1.0.255"), attributeId: 2 };
export const PUBLIC_CLIENT_SAP = 16;

/** The counter's value, or undefined when the meter does not publish it (or cannot be read without security). */
export async function readFrameCounter(
  link: LinkSettings,
  transport: Transport,
  timeoutMs: number,
): Promise<number | undefined> {
  const client = new DlmsClient({
    transport,
    link: { ...link, clientAddress: PUBLIC_CLIENT_SAP },
    auth: { mechanism: "none" },
    timeoutMs,
  });
  try {
    await client.connect();
    const data = await client.get(FRAME_COUNTER);
    await client.release();
    return "value" in data && typeof data.value === "number" ? data.value : undefined;
  } catch {
    client.close();
    return undefined;
  }
}

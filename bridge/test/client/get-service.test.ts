// The GET procedures describe their request ("GET 1.0.32.7.0.255 class 3 attr 2") only when a message needs it,
// with the same text as ever.
import { afterEach, describe, expect, it, vi } from "vitest";
import { ProtocolViolationError } from "../../src/client/errors.js";
import { type GetExchange, GetTarget, getNormal, NextBlock } from "../../src/client/get-service.js";
import { LazyText, type What } from "../../src/client/what.js";
import type { AttributeRequest, GetResponse } from "../../src/dlms/apdu/types.js";
import { encodeData } from "../../src/dlms/axdr/index.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";

const VOLTAGE: AttributeRequest = { classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 };
const INVOKE = { invokeId: 1, confirmed: true, highPriority: true };

function exchange(replies: GetResponse[], seen: What[] = []): GetExchange {
  return {
    begin: (what) => ({ what, deadlineAt: Number.POSITIVE_INFINITY, blocks: 0, bytes: 0 }),
    request: async (_request, what) => {
      seen.push(what);
      const reply = replies.shift();
      if (!reply) throw new Error("no more replies");
      return reply;
    },
    maxReplyBytes: 4096,
    nextInvoke: () => INVOKE,
    warn: () => undefined,
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("request descriptions", () => {
  it("read as the old strings", () => {
    const target = new GetTarget(VOLTAGE);
    expect(`${target}`).toBe("GET 1.0.32.7.0.255 class 3 attr 2");
    expect(`${new NextBlock(target, 3)}`).toBe("GET 1.0.32.7.0.255 class 3 attr 2 (block 3)");
    expect(String(new NextBlock("GET-with-list of 2", 2))).toBe("GET-with-list of 2 (block 2)");
  });

  it("are not built for a GET that succeeds, even over several blocks", async () => {
    const toText = vi.spyOn(LazyText.prototype, "toString");
    const raw = encodeData({ type: "long-unsigned", value: 230 });
    const seen: What[] = [];
    const result = await getNormal(
      exchange(
        [
          {
            tag: "get-response",
            kind: "with-datablock",
            invoke: INVOKE,
            lastBlock: false,
            blockNumber: 1,
            result: { ok: true, raw: raw.subarray(0, 1) },
          },
          {
            tag: "get-response",
            kind: "with-datablock",
            invoke: INVOKE,
            lastBlock: true,
            blockNumber: 2,
            result: { ok: true, raw: raw.subarray(1) },
          },
        ],
        seen,
      ),
      VOLTAGE,
    );
    expect(result).toEqual({ ok: true, data: { type: "long-unsigned", value: 230 } });
    expect(toText).not.toHaveBeenCalled();
    expect(seen.map(String)).toEqual([
      "GET 1.0.32.7.0.255 class 3 attr 2",
      "GET 1.0.32.7.0.255 class 3 attr 2 (block 2)",
    ]);
  });

  it("are spelled out in errors", async () => {
    const error = await getNormal(
      exchange([{ tag: "get-response", kind: "with-list", invoke: INVOKE, results: [] }]),
      VOLTAGE,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect((error as Error).message).toBe("GET 1.0.32.7.0.255 class 3 attr 2 answered with a With-List");
  });
});

import { describe, expect, it } from "vitest";
import { parseObjectArgument } from "../../src/cli/read.js";
import { likelyClass } from "../../src/client/object-ref.js";

describe("read: which object --obis names", () => {
  it.each([
    ["1.0.32.7.0.255", 3],
    ["1-1:31.7.0", 3],
    ["0.0.96.1.0.255", 1],
    ["0.0.42.0.0.255", 1],
    ["0.0.1.0.0.255", 8],
    ["0.0.40.0.0.255", 15],
    ["1.0.99.1.0.255", 7],
  ])("%s without --class is read as class %i", (text, classId) => {
    expect(parseObjectArgument(text, undefined, 2)).toMatchObject({ classId, attributeId: 2 });
  });

  it("--class and CLASS/OBIS/ATTR override the guess", () => {
    expect(parseObjectArgument("0.0.96.1.0.255", 3, 2).classId).toBe(3);
    expect(parseObjectArgument("4/1.0.1.8.0.255/3", undefined, 2)).toEqual({
      obis: "1.0.1.8.0.255",
      classId: 4,
      attributeId: 3,
    });
    expect(likelyClass("1.0.1.8.0.255")).toBe(3);
  });
});

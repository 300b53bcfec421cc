import { describe, expect, it } from "vitest";
import { attributeName, className, InterfaceClass, methodName } from "../../../src/dlms/cosem/interface-classes.js";

describe("interface class catalogue", () => {
  it("has the class ids and attribute ids of 62056-6-2", () => {
    expect(InterfaceClass.register.classId).toBe(3);
    expect(InterfaceClass.register.attributes.scaler_unit).toBe(3);
    expect(InterfaceClass.demandRegister.attributes.scaler_unit).toBe(4);
    expect(InterfaceClass.profileGeneric.attributes.capture_objects).toBe(3);
    expect(InterfaceClass.clock.attributes.time).toBe(2);
    expect(InterfaceClass.associationLn.attributes.object_list).toBe(2);
  });

  it("gives every class a unique id and every attribute a unique id within its class", () => {
    const classes = Object.values(InterfaceClass);
    expect(new Set(classes.map((c) => c.classId)).size).toBe(classes.length);
    for (const c of classes) {
      const ids = Object.values(c.attributes);
      expect(new Set(ids).size, c.name).toBe(ids.length);
      expect(c.attributes.logical_name, c.name).toBe(1);
    }
  });

  it("names classes, attributes and methods", () => {
    expect(className(3)).toBe("Register");
    expect(className(64)).toBe("Security Setup");
    expect(className(250)).toBe("class 250");
    expect(attributeName(3, 3)).toBe("scaler_unit");
    expect(attributeName(8, 2)).toBe("time");
    expect(attributeName(3, 9)).toBeUndefined();
    expect(attributeName(64, 1)).toBeUndefined();
    expect(methodName(8, 6)).toBe("shift_time");
    expect(methodName(1, 1)).toBeUndefined();
  });
});

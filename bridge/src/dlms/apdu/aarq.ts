// AARQ [APPLICATION 0] (ACSE, BER): the client's association request. Elements we do not use (protocol-version,
// called/calling AE qualifiers, implementation-information...) are skipped, so richer peers still associate.
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import {
  forEachElement,
  missing,
  readApplicationContext,
  readApTitle,
  readAuthenticationValue,
  readUserInformation,
  writeApplicationContext,
  writeApTitle,
  writeAuthenticationValue,
  writeCipheredUserInformation,
  writeMechanism,
  writeUserInformation,
} from "./acse-elements.js";
import { constructed, writeTlv } from "./ber.js";
import { writeInitiateRequest } from "./initiate.js";
import { mechanismFromOid } from "./oids.js";
import { type Aarq, ApduTag, type ApplicationContext } from "./types.js";

/** Context-specific tags of the AARQ fields we read or write. */
export const AarqField = {
  applicationContextName: 0xa1,
  callingApTitle: 0xa6,
  senderAcseRequirements: 0x8a,
  mechanismName: 0x8b,
  callingAuthenticationValue: 0xac,
  userInformation: 0xbe,
} as const;

export function writeAarq(w: ByteWriter, a: Aarq): void {
  writeTlv(
    w,
    ApduTag.aarq,
    constructed((c) => {
      writeApplicationContext(c, a.applicationContext);
      if (a.callingApTitle) writeApTitle(c, AarqField.callingApTitle, a.callingApTitle);
      if (a.mechanism) writeMechanism(c, AarqField.senderAcseRequirements, AarqField.mechanismName, a.mechanism);
      if (a.authenticationValue)
        writeAuthenticationValue(c, AarqField.callingAuthenticationValue, a.authenticationValue);
      const ui = a.userInformation;
      if (ui.tag === "ciphered-user-information") writeCipheredUserInformation(c, ui);
      else writeUserInformation(c, (v) => writeInitiateRequest(v, ui));
    }),
  );
}

export function readAarq(r: ByteReader): Aarq {
  let applicationContext: ApplicationContext | undefined;
  let userInformation: Aarq["userInformation"] | undefined;
  const optional: Pick<Aarq, "callingApTitle" | "mechanism" | "authenticationValue"> = {};
  forEachElement(r, (t) => {
    switch (t.tag) {
      case AarqField.applicationContextName:
        applicationContext = readApplicationContext(t);
        break;
      case AarqField.callingApTitle:
        optional.callingApTitle = readApTitle(t);
        break;
      case AarqField.mechanismName:
        optional.mechanism = mechanismFromOid(t.value.readRest(), t.offset);
        break;
      case AarqField.callingAuthenticationValue:
        optional.authenticationValue = readAuthenticationValue(t);
        break;
      case AarqField.userInformation:
        userInformation = readUserInformation(t, ["initiate-request", "ciphered-user-information"]);
        break;
    }
  });
  if (!applicationContext) throw missing("application-context-name", "AARQ", r);
  if (!userInformation) throw missing("user-information", "AARQ", r);
  return { tag: "aarq", applicationContext, ...optional, userInformation };
}

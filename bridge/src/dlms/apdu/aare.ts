// AARE [APPLICATION 1] (ACSE, BER): the server's answer. A rejecting AARE may come without user-information;
// a missing result-source-diagnostic is tolerated as "null". Unused elements are skipped.
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import {
  forEachElement,
  missing,
  readApplicationContext,
  readApTitle,
  readAuthenticationValue,
  readIntegerElement,
  readUserInformation,
  writeApplicationContext,
  writeApTitle,
  writeAuthenticationValue,
  writeCipheredUserInformation,
  writeIntegerElement,
  writeMechanism,
  writeUserInformation,
} from "./acse-elements.js";
import { constructed, hex2, readTlv, type Tlv, writeTlv } from "./ber.js";
import { ASSOCIATION_RESULTS, acseDiagnosticName } from "./diagnostics.js";
import { writeConfirmedServiceError, writeInitiateResponse } from "./initiate.js";
import { mechanismFromOid } from "./oids.js";
import { type Aare, ApduTag, type ApplicationContext } from "./types.js";

export const AareField = {
  applicationContextName: 0xa1,
  result: 0xa2,
  resultSourceDiagnostic: 0xa3,
  respondingApTitle: 0xa4,
  responderAcseRequirements: 0x88,
  mechanismName: 0x89,
  respondingAuthenticationValue: 0xaa,
  userInformation: 0xbe,
} as const;

/** result-source-diagnostic CHOICE: acse-service-user [1], acse-service-provider [2]. */
const DIAGNOSTIC_SOURCE_TAG = { user: 0xa1, provider: 0xa2 } as const;

export function writeAare(w: ByteWriter, a: Aare): void {
  writeTlv(
    w,
    ApduTag.aare,
    constructed((c) => {
      writeApplicationContext(c, a.applicationContext);
      writeIntegerElement(c, AareField.result, associationResultCode(a.result));
      writeTlv(
        c,
        AareField.resultSourceDiagnostic,
        constructed((v) => writeIntegerElement(v, DIAGNOSTIC_SOURCE_TAG[a.diagnostic.source], a.diagnostic.code)),
      );
      if (a.respondingApTitle) writeApTitle(c, AareField.respondingApTitle, a.respondingApTitle);
      if (a.mechanism) writeMechanism(c, AareField.responderAcseRequirements, AareField.mechanismName, a.mechanism);
      if (a.respondingAuthenticationValue) {
        writeAuthenticationValue(c, AareField.respondingAuthenticationValue, a.respondingAuthenticationValue);
      }
      const ui = a.userInformation;
      if (ui) {
        if (ui.tag === "ciphered-user-information") writeCipheredUserInformation(c, ui);
        else {
          writeUserInformation(c, (v) =>
            ui.tag === "initiate-response" ? writeInitiateResponse(v, ui) : writeConfirmedServiceError(v, ui),
          );
        }
      }
    }),
  );
}

function associationResultCode(result: Aare["result"]): number {
  const code = ASSOCIATION_RESULTS.indexOf(result);
  if (code < 0) throw new LocalProtocolError(`unknown association result "${result}"`);
  return code;
}

function readDiagnostic(t: Tlv): Aare["diagnostic"] {
  const choice = readTlv(t.value);
  const source =
    choice.tag === DIAGNOSTIC_SOURCE_TAG.user
      ? "user"
      : choice.tag === DIAGNOSTIC_SOURCE_TAG.provider
        ? "provider"
        : undefined;
  if (!source)
    throw new DecodeError("malformed", `result-source-diagnostic of kind 0x${hex2(choice.tag)}`, choice.offset);
  const code = readIntegerElement(choice, "result-source-diagnostic");
  return { source, code, name: acseDiagnosticName(source, code) };
}

function readResult(t: Tlv): Aare["result"] {
  const code = readIntegerElement(t, "association result");
  const result = ASSOCIATION_RESULTS[code];
  if (!result) throw new DecodeError("malformed", `association result ${code} (expected 0..2)`, t.offset);
  return result;
}

export function readAare(r: ByteReader): Aare {
  let applicationContext: ApplicationContext | undefined;
  let result: Aare["result"] | undefined;
  // A missing diagnostic is tolerated as "null" (the result alone still says accepted or rejected).
  let diagnostic: Aare["diagnostic"] = { source: "user", code: 0, name: acseDiagnosticName("user", 0) };
  const optional: Pick<Aare, "respondingApTitle" | "mechanism" | "respondingAuthenticationValue" | "userInformation"> =
    {};
  forEachElement(r, (t) => {
    switch (t.tag) {
      case AareField.applicationContextName:
        applicationContext = readApplicationContext(t);
        break;
      case AareField.result:
        result = readResult(t);
        break;
      case AareField.resultSourceDiagnostic:
        diagnostic = readDiagnostic(t);
        break;
      case AareField.respondingApTitle:
        optional.respondingApTitle = readApTitle(t);
        break;
      case AareField.mechanismName:
        optional.mechanism = mechanismFromOid(t.value.readRest(), t.offset);
        break;
      case AareField.respondingAuthenticationValue:
        optional.respondingAuthenticationValue = readAuthenticationValue(t);
        break;
      case AareField.userInformation:
        optional.userInformation = readUserInformation(t, [
          "initiate-response",
          "confirmed-service-error",
          "ciphered-user-information",
        ]);
        break;
    }
  });
  if (!applicationContext) throw missing("application-context-name", "AARE", r);
  if (!result) throw missing("result", "AARE", r);
  return { tag: "aare", applicationContext, result, diagnostic, ...optional };
}

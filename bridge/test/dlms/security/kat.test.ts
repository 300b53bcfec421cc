// Known-answer tests of the security suite 0 framing (IV, AAD, SC, 12-byte tag, envelopes).
//
// Sources of the vectors:
//  [GB-T43]  DLMS UA 1000-2 "Green Book" Ed. 8.1, §9.2.7.4, Table 43 "HLS example using authentication-mechanism 5
//            with GMAC" (client system title 4D4D4D0000000001, IC 00000001; server 4D4D4D0000BC614E, IC 01234567;
//            EK 000102…0F, AK D0D1…DF; CtoS "K56iVagY", StoC "P6wRJ21F"), as reproduced in public test code (a
//            C unit test named GreenBookHlsMechanism5Vector quoting the table verbatim).
//  [GB-INIT] The Green Book's glo-initiateRequest example (same EK/AK, system title 4D4D4D0000BC614E,
//            IC 01234567, SC 0x30, an InitiateRequest with a dedicated key), as reproduced in public code (a Java
//            AESGcm128 example with plaintext 0101100011…04B0 and ciphertext||tag 801302FF…356855).
//  [OPENSSL] Values we derived ourselves with an independent implementation, the OpenSSL 3.0 CLI:
//              openssl mac -cipher AES-128-GCM -macopt hexkey:EK -macopt hexiv:IV -in AAD.bin GMAC   (tags)
//              openssl enc -aes-128-ctr -K EK -iv IV00000002                                        (ciphertext)
//            The "live" block below re-runs those commands when `openssl mac` is available.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import {
  CipherSession,
  hlsGmacResponse,
  initializationVector,
  protect,
  readEnvelope,
  SecurityError,
  securityControlFor,
  unprotect,
  unwrap,
  verifyHlsGmacResponse,
  wrap,
} from "../../../src/dlms/security/index.js";

const hex = (b: Uint8Array) => toHex(b, "");
const EK = fromHex("000102030405060708090A0B0C0D0E0F");
const AK = fromHex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF");
const keys = { ek: EK, ak: AK };
const CLIENT_ST = fromHex("4D4D4D0000000001");
const SERVER_ST = fromHex("4D4D4D0000BC614E");
const CTOS = new TextEncoder().encode("K56iVagY");
const STOC = new TextEncoder().encode("P6wRJ21F");
const INITIATE = fromHex("01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F04B0");

describe("HLS-GMAC f(challenge) [GB-T43]", () => {
  it("IVs are system title || IC", () => {
    expect(hex(initializationVector(CLIENT_ST, 1))).toBe("4D4D4D000000000100000001");
    expect(hex(initializationVector(SERVER_ST, 0x01234567))).toBe("4D4D4D0000BC614E01234567");
  });
  it("pass 3: the client's f(StoC) = 10 00000001 1A52FE7DD3E72748973C1E28", () => {
    const f = hlsGmacResponse({ systemTitle: CLIENT_ST, invocationCounter: 1, keys, challenge: STOC });
    expect(hex(f)).toBe("10000000011A52FE7DD3E72748973C1E28");
  });
  it("pass 4: the server's f(CtoS) = 10 01234567 FE1466AFB3DBCD4F9389E2B7, and it verifies", () => {
    const f = hlsGmacResponse({ systemTitle: SERVER_ST, invocationCounter: 0x01234567, keys, challenge: CTOS });
    expect(hex(f)).toBe("1001234567FE1466AFB3DBCD4F9389E2B7");
    expect(verifyHlsGmacResponse(f, { systemTitle: SERVER_ST, keys, challenge: CTOS })).toEqual({
      ok: true,
      invocationCounter: 0x01234567,
    });
  });
  it("f(CtoS) does not verify with another AK, EK, system title or challenge, or with a flipped tag bit", () => {
    const f = fromHex("1001234567FE1466AFB3DBCD4F9389E2B7");
    const wrongAk = { ek: EK, ak: fromHex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDE") };
    const wrongEk = { ek: fromHex("000102030405060708090A0B0C0D0E0E"), ak: AK };
    expect(verifyHlsGmacResponse(f, { systemTitle: SERVER_ST, keys: wrongAk, challenge: CTOS }).ok).toBe(false);
    expect(verifyHlsGmacResponse(f, { systemTitle: SERVER_ST, keys: wrongEk, challenge: CTOS }).ok).toBe(false);
    expect(verifyHlsGmacResponse(f, { systemTitle: CLIENT_ST, keys, challenge: CTOS }).ok).toBe(false);
    expect(verifyHlsGmacResponse(f, { systemTitle: SERVER_ST, keys, challenge: STOC }).ok).toBe(false);
    const flipped = f.slice();
    flipped[16]! ^= 1;
    expect(verifyHlsGmacResponse(flipped, { systemTitle: SERVER_ST, keys, challenge: CTOS }).ok).toBe(false);
  });
});

describe("glo-initiateRequest, authenticated encryption [GB-INIT]", () => {
  const EXPECTED =
    "2130" +
    "30" +
    "01234567" +
    "801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE68" +
    "41DB204D39EE6FDB8E356855";
  it("SC 0x30, AAD = SC || AK: the whole APDU matches the published bytes", () => {
    expect(securityControlFor("auth-enc")).toBe(0x30);
    const apdu = wrap({
      kind: "glo",
      policy: "auth-enc",
      systemTitle: SERVER_ST,
      invocationCounter: 0x01234567,
      keys,
      apdu: INITIATE,
    });
    expect(hex(apdu)).toBe(EXPECTED);
  });
  it("unwraps back to the InitiateRequest", () => {
    const opened = unwrap(fromHex(EXPECTED), { systemTitle: SERVER_ST, keys });
    expect(opened).toMatchObject({
      kind: "glo",
      name: "glo-initiateRequest",
      policy: "auth-enc",
      invocationCounter: 0x01234567,
    });
    expect(hex(opened.plaintext)).toBe(hex(INITIATE));
  });
  it("every single-bit flip anywhere after the tag is refused (tag, ciphertext, IC or SC)", () => {
    const good = fromHex(EXPECTED);
    for (let i = 2; i < good.length; i++) {
      const bad = good.slice();
      bad[i]! ^= 0x01;
      expect(() => unwrap(bad, { systemTitle: SERVER_ST, keys }), `byte ${i}`).toThrow();
    }
  });
});

describe("authentication only and encryption only [OPENSSL]", () => {
  it("auth-only (SC 0x10): information in clear, tag = GMAC(SC || AK || APDU)", () => {
    const content = protect({
      policy: "auth",
      systemTitle: SERVER_ST,
      invocationCounter: 0x01234567,
      keys,
      plaintext: INITIATE,
    });
    expect(hex(content)).toBe(`1001234567${hex(INITIATE)}CE0F5B426AA53E1FFB736C1E`);
    expect(hex(unprotect({ systemTitle: SERVER_ST, keys, content, what: "x" }).plaintext)).toBe(hex(INITIATE));
  });
  it("enc-only (SC 0x20): GCM's counter mode from IV||00000002, no tag", () => {
    const content = protect({
      policy: "enc",
      systemTitle: SERVER_ST,
      invocationCounter: 0x01234567,
      keys,
      plaintext: INITIATE,
    });
    expect(hex(content)).toBe("2001234567801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE68");
    expect(hex(unprotect({ systemTitle: SERVER_ST, keys, content, what: "x" }).plaintext)).toBe(hex(INITIATE));
  });
  it("auth-only: a changed information byte or AK is a tag mismatch naming the APDU, never a key", () => {
    const content = protect({
      policy: "auth",
      systemTitle: SERVER_ST,
      invocationCounter: 7,
      keys,
      plaintext: INITIATE,
    });
    const bad = content.slice();
    bad[10]! ^= 0x80;
    const run =
      (c: Uint8Array, k = keys) =>
      () =>
        unprotect({ systemTitle: SERVER_ST, keys: k, content: c, what: "glo-get-response" });
    expect(run(bad)).toThrow(/glo-get-response: authentication tag does not verify/);
    try {
      run(content, { ek: EK, ak: fromHex("00".repeat(16)) })();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SecurityError);
      expect((error as SecurityError).failure).toBe("tag-mismatch");
      expect((error as Error).message).not.toMatch(/D0D1|d0d1|0001020304/);
    }
  });
});

describe("general-glo-ciphering and the session's checks", () => {
  const GET = fromHex("C001C100030100010800FF0200");
  it("general-glo carries the sender's system title and opens only for that peer", () => {
    const apdu = wrap({
      kind: "general-glo",
      policy: "auth-enc",
      systemTitle: SERVER_ST,
      invocationCounter: 5,
      keys,
      apdu: GET,
    });
    expect(hex(apdu.subarray(0, 10))).toBe("DB084D4D4D0000BC614E");
    expect(readEnvelope(apdu)).toMatchObject({ kind: "general-glo", name: "general-glo-ciphering" });
    expect(hex(unwrap(apdu, { systemTitle: SERVER_ST, keys }).plaintext)).toBe(hex(GET));
    expect(() => unwrap(apdu, { systemTitle: CLIENT_ST, keys })).toThrow(
      /system title 4D4D4D0000BC614E is not the peer's/,
    );
  });
  it("replayed or lower peer counters are refused; a weaker protection than required is refused", () => {
    const server = new CipherSession({
      policy: "auth-enc",
      ownSystemTitle: SERVER_ST,
      peerSystemTitle: CLIENT_ST,
      keys,
    });
    const client = new CipherSession({
      policy: "auth-enc",
      ownSystemTitle: CLIENT_ST,
      peerSystemTitle: SERVER_ST,
      keys,
    });
    const r10 = server.protect(GET, 10);
    expect(hex(client.unprotect(r10).plaintext)).toBe(hex(GET));
    expect(() => client.unprotect(r10)).toThrow(/counter 10 is not above the last accepted 10/);
    expect(() => client.unprotect(server.protect(GET, 9))).toThrow(SecurityError);
    expect(client.unprotect(server.protect(GET, 11)).invocationCounter).toBe(11);
    const authOnly = wrap({
      kind: "glo",
      policy: "auth",
      systemTitle: SERVER_ST,
      invocationCounter: 12,
      keys,
      apdu: GET,
    });
    expect(() => client.unprotect(authOnly)).toThrow(/requires "auth-enc"/);
  });
});

describe("live cross-check with the OpenSSL CLI [OPENSSL]", () => {
  let available = false;
  try {
    execFileSync("openssl", ["mac", "-help"], { stdio: "ignore" });
    available = true;
  } catch {
    available = false;
  }
  const dir = available ? mkdtempSync(join(tmpdir(), "gcm-kat-")) : "";
  const opensslGmac = (iv: Uint8Array, aad: Uint8Array) => {
    const file = join(dir, "aad.bin");
    writeFileSync(file, aad);
    const out = execFileSync("openssl", [
      "mac",
      "-cipher",
      "AES-128-GCM",
      "-macopt",
      `hexkey:${hex(EK)}`,
      "-macopt",
      `hexiv:${hex(iv)}`,
      "-in",
      file,
      "GMAC",
    ]);
    return out.toString().trim().slice(0, 24).toUpperCase();
  };
  it.runIf(available)("our tags equal openssl's GMAC for random challenges, counters and APDUs", () => {
    for (let i = 0; i < 5; i++) {
      const challenge = crypto.getRandomValues(new Uint8Array(8 + i * 7));
      const ic = (Math.random() * 2 ** 32) >>> 0;
      const ours = hlsGmacResponse({ systemTitle: CLIENT_ST, invocationCounter: ic, keys, challenge });
      const aad = new Uint8Array([0x10, ...AK, ...challenge]);
      expect(hex(ours.subarray(5))).toBe(opensslGmac(initializationVector(CLIENT_ST, ic), aad));
    }
  });
  if (!available) it.skip("skipped: `openssl mac` is not available on this machine", () => {});
});

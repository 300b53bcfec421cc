// Security suite 0 for xDLMS: security control byte, AES-GCM protection, glo-/general-glo envelopes, HLS-GMAC.
export { SecurityError, type SecurityFailure } from "./errors.js";
export {
  type CipherKeys,
  checkKeys,
  checkSystemTitle,
  gmac,
  initializationVector,
  KEY_LENGTH,
  MAX_INVOCATION_COUNTER,
  protect,
  SYSTEM_TITLE_LENGTH,
  TAG_LENGTH,
  unprotect,
} from "./gcm.js";
export {
  type CipheredKind,
  cipheredName,
  GENERAL_GLO_CIPHERING,
  isCipheredTag,
  readEnvelope,
  unwrap,
  wrap,
} from "./glo.js";
export { checkChallenge, HLS_GMAC_SC, hlsGmacResponse, verifyHlsGmacResponse } from "./hls-gmac.js";
export {
  decodeSecurityControl,
  describePolicy,
  encodeSecurityControl,
  policyOf,
  type SecurityPolicy,
  securityControlFor,
} from "./security-control.js";
export { CipherSession, type CipherSessionOptions, covers } from "./session.js";

// The distfiles API the runner and other layers use; the CLI commands import the pieces directly.
export { readLock, parseLock } from './read-lock.js';
export { writeLock, updateLock, serializeLock } from './write-lock.js';
export { ensureDistfiles, type EnsureOptions, type EnsuredFiles } from './ensure.js';
export { collectRecorded, fetchCommandScript, RECORD_LOG, type CollectOptions } from './record.js';
export { verifyLock, type VerifyReport } from './verify-lock.js';
export { isPinned, distfileNameProblem, DISTFILE_KINDS, type Lock, type LockEntry, type AllowBinary, type DistfileKind } from './lock-schema.js';
export { integrityProblem, parseIntegrity, formatIntegrity, hexDigestToBase64 } from './integrity.js';
export type { FetchEvent, FetchEventHandler } from './events.js';

import * as z from 'zod';
import { integrityProblem } from './integrity.js';

export const LOCKFILE_VERSION = 1;
export const DISTFILE_KINDS = ['source', 'repo-snapshot', 'seed'] as const;
export type DistfileKind = (typeof DISTFILE_KINDS)[number];

/**
 * Why a name cannot be a distfile name, or undefined. Names become file names in the store and
 * in roots' DISTDIR, so nothing that could leave a directory (`..`, `/`) is allowed; names
 * starting with `.` are reserved for the store's own bookkeeping (`.partial/`, `.verified/`);
 * whitespace is excluded because Manifest lines and FETCHCOMMAND arguments split on it.
 */
export function distfileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 255) return 'is longer than 255 bytes';
  if (name.includes('/')) return 'contains "/" (a distfile name is a plain file name, not a path)';
  if (name.startsWith('.')) return 'starts with "." (such names are reserved for the store and would be hidden)';
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f\\]/.test(name)) return 'contains whitespace, a backslash or a control character';
  return undefined;
}

const urlSchema = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a URL` });
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an http or https URL` });
  }
});

export const allowBinarySchema = z.strictObject({
  pattern: z.string().min(1),
  reason: z.string().min(1),
});

const HEX40 = /^[0-9a-f]{40}$/;

/**
 * A snapshot pinned by a git commit: the store file is `git archive --format=tar <commit>` of
 * the repository at `urls` (git-snapshot.ts); `path` is where the tree goes in the checkout it
 * belongs to ('' for the top).
 */
export const gitPinSchema = z.strictObject({
  commit: z.string().regex(HEX40, 'a commit is 40 lowercase hex digits'),
  path: z.string().refine((p) => p === '' || (!p.startsWith('/') && !p.split('/').some((part) => part === '' || part === '.' || part === '..')), {
    message: "a relative path without '.', '..' or empty parts ('' for the top)",
  }),
});

/**
 * A file pinned by a detached OpenPGP signature: `fetch` checks it with gpgv against the key
 * file of the lock entry `key`, and accepts only a signature by the key `fingerprint` (primary
 * key or subkey); then it records the file's digests in `integrity` (signature.ts).
 */
export const signaturePinSchema = z.strictObject({
  urls: z.array(urlSchema).min(1, 'list at least one URL of the signature'),
  key: z.string().min(1),
  fingerprint: z.string().regex(HEX40, 'a fingerprint is 40 lowercase hex digits (v4 key)'),
});

export const lockEntrySchema = z
  .strictObject({
    size: z.number().int().positive().nullable(),
    integrity: z
      .string()
      .nullable()
      .superRefine((text, ctx) => {
        const problem = text === null ? undefined : integrityProblem(text, { sha256Only: true });
        if (problem) ctx.addIssue({ code: 'custom', message: `integrity ${problem}` });
      }),
    urls: z.array(urlSchema).min(1, 'list at least one URL'),
    kind: z.enum(DISTFILE_KINDS),
    from: z.string().min(1).optional(),
    group: z.string().min(1).optional(),
    git: gitPinSchema.optional(),
    signature: signaturePinSchema.optional(),
    allowBinaries: z.array(allowBinarySchema).optional(),
  })
  .superRefine((entry, ctx) => {
    // sha256 alone is what other bootstrappers' source lists give (live-bootstrap's
    // steps/*/sources): accepted for entries imported from such a list (they carry a group),
    // and only those may leave the size unknown. Every other pin keeps sha512 and a size.
    const sha256Only = entry.integrity !== null && isSha256Only(entry.integrity);
    if (sha256Only && entry.group === undefined) {
      ctx.addIssue({ code: 'custom', path: ['integrity'], message: 'integrity has only sha256: allowed for entries imported from an upstream list (with a group), otherwise add sha512' });
    }
    if (entry.integrity !== null && entry.size === null && !sha256Only) {
      ctx.addIssue({ code: 'custom', path: ['size'], message: 'a pinned entry (integrity set) must also record its size' });
    }
    if ((entry.integrity !== null || entry.git !== undefined || entry.signature !== undefined) && entry.from === undefined) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'a pinned entry must say where its hash came from' });
    }
    if (entry.git !== undefined && (entry.integrity !== null || entry.size !== null || entry.kind !== 'repo-snapshot' || entry.signature !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['git'], message: 'an entry pinned by a git commit is a repo-snapshot with size and integrity null and no signature (the commit is its pin)' });
    }
    if (new Set(entry.urls).size !== entry.urls.length) {
      ctx.addIssue({ code: 'custom', path: ['urls'], message: 'lists the same URL twice' });
    }
  });

export const lockSchema = z.strictObject({
  lockfileVersion: z.literal(LOCKFILE_VERSION),
  distfiles: z.record(
    z.string().superRefine((name, ctx) => {
      const problem = distfileNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: `distfile name "${name}" ${problem}` });
    }),
    lockEntrySchema,
  ),
}).superRefine((lock, ctx) => {
  for (const [name, entry] of Object.entries(lock.distfiles)) {
    if (entry.signature === undefined) continue;
    const key = lock.distfiles[entry.signature.key];
    if (key === undefined || key.integrity === null || key.signature !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['distfiles', name, 'signature', 'key'],
        message: `names "${entry.signature.key}", which must be an entry of this lock pinned by its digests (the signing key's file)`,
      });
    }
  }
});

export type AllowBinary = z.infer<typeof allowBinarySchema>;
export type LockEntry = z.infer<typeof lockEntrySchema>;
export type Lock = z.infer<typeof lockSchema>;
export type GitPin = z.infer<typeof gitPinSchema>;
export type SignaturePin = z.infer<typeof signaturePinSchema>;
export type DigestPinnedEntry = LockEntry & { integrity: string };

/**
 * Whether the bytes of an entry are decided by something other than the first server that
 * answers: its digests, its git commit, or a signature by a pinned key. Only unpinned entries
 * need `--pin` (trust on first use).
 */
export function isPinned(entry: LockEntry): boolean {
  return entry.integrity !== null || entry.git !== undefined || entry.signature !== undefined;
}

/** Whether the lock holds digests to compare the file with (a signature entry gets them on first fetch). */
export function hasDigests(entry: LockEntry): entry is DigestPinnedEntry {
  return entry.integrity !== null;
}

function isSha256Only(integrity: string): boolean {
  const tokens = integrity.split(/\s+/).filter(Boolean);
  return tokens.length > 0 && tokens.every((t) => t.startsWith('sha256-'));
}

import { z } from 'zod';
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

export const lockEntrySchema = z
  .strictObject({
    size: z.number().int().positive().nullable(),
    integrity: z
      .string()
      .nullable()
      .superRefine((text, ctx) => {
        const problem = text === null ? undefined : integrityProblem(text);
        if (problem) ctx.addIssue({ code: 'custom', message: `integrity ${problem}` });
      }),
    urls: z.array(urlSchema).min(1, 'list at least one URL'),
    kind: z.enum(DISTFILE_KINDS),
    from: z.string().min(1).optional(),
    allowBinaries: z.array(allowBinarySchema).optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.integrity !== null && entry.size === null) {
      ctx.addIssue({ code: 'custom', path: ['size'], message: 'a pinned entry (integrity set) must also record its size' });
    }
    if (entry.integrity !== null && entry.from === undefined) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'a pinned entry must say where its hash came from' });
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
});

export type AllowBinary = z.infer<typeof allowBinarySchema>;
export type LockEntry = z.infer<typeof lockEntrySchema>;
export type Lock = z.infer<typeof lockSchema>;
export type PinnedEntry = LockEntry & { size: number; integrity: string };

export function isPinned(entry: LockEntry): entry is PinnedEntry {
  return entry.integrity !== null && entry.size !== null;
}

/**
 * Whether a string is a package atom Portage's `Atom()` accepts with its defaults (no
 * `::repo`, no wildcards, any EAPI), as grabfile_package checks each line of a profile file.
 */

const CATEGORY = String.raw`[\w+][\w+.-]*`;
const NAME = String.raw`[\w+][\w+-]*`;
const VERSION = String.raw`\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*`;
const REVISION = String.raw`(?:-r\d+)?`;
const SLOT_NAME = String.raw`[\w+][\w+.-]*`;
const SLOT = String.raw`(?::(?:\*|=|${SLOT_NAME}(?:/${SLOT_NAME})?=?))?`;
const USE_FLAG = String.raw`[A-Za-z0-9][\w+@-]*(?:\([+-]\))?`;
const USE_ITEM = String.raw`(?:-?${USE_FLAG}|!?${USE_FLAG}[?=])`;
const USE = String.raw`(?:\[${USE_ITEM}(?:,${USE_ITEM})*\])?`;

const PLAIN = new RegExp(`^(${CATEGORY})/(${NAME})${SLOT}${USE}$`);
const VERSIONED = new RegExp(`^(?:>=|<=|<|>|=|~)(${CATEGORY})/(${NAME})-${VERSION}${REVISION}(\\*)?${SLOT}${USE}$`);
const ENDS_LIKE_VERSION = new RegExp(`-${VERSION}${REVISION}$`);

export function isValidAtom(text: string): boolean {
  const atom = text.replace(/^!!?/, '');
  const plain = PLAIN.exec(atom);
  if (plain) return !ENDS_LIKE_VERSION.test(plain[2]!);
  const versioned = VERSIONED.exec(atom);
  if (!versioned) return false;
  // Only `=` takes a trailing `*`; the name itself must not end like a version.
  if (versioned[3] !== undefined && !atom.startsWith('=')) return false;
  return !ENDS_LIKE_VERSION.test(versioned[2]!);
}

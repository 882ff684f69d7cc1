// Bundled in place of string-width (bin/build.js), for yargs' help layout (cliui, wrap-ansi).
// string-width builds an Intl.Segmenter and `v`-flag Unicode regular expressions when it is
// imported, a quarter of `bootstrap --version`'s time, yet answers printable ASCII by its length
// before using any of them. This answers ASCII the same way and imports the real one (esbuild
// turns this require() into a lazy initialiser within the bundle) on the first other text.
let real;

export default function stringWidth(text, options) {
  if (typeof text === 'string' && /^[\x20-\x7e]*$/.test(text)) return text.length;
  real ??= require('string-width').default;
  return real(text, options);
}

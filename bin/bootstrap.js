#!/usr/bin/env node
// Built output lives in dist/; `npm install` runs the build (the "prepare" script).
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2)));

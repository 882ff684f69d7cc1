#!/usr/bin/env node
// Built output lives in dist/; `npm ci` (or `npm install`) in the project's folder builds it (the "prepare" script).
import('../dist/bundle/main.js').then(
  (m) => m.main(process.argv.slice(2)),
  (error) => {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    const project = new URL('..', import.meta.url).pathname;
    process.stderr.write(
      `error: bootstrap is not built or its dependencies are not installed in ${project} (${error.message.split('\n')[0]})\n` +
        `hint: Run \`npm ci\` there: it installs the dependencies and builds dist/ (\`npm run build\` builds again after a change).\n`,
    );
    process.exitCode = 2;
  },
);

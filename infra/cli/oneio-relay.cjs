#!/usr/bin/env node
// The `oneio-relay` command: runs the TypeScript CLI through tsx, so there is no build step to forget.
'use strict';

// The SDK warns on every run that it will drop Node 20 in 2027; that concerns this machine's Node, not the
// function's runtime (Node.js 24), and would bury the operator's output. Set it to anything else to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

require('tsx/cjs');
const { main } = require('./main.ts');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

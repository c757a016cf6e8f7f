#!/usr/bin/env node
'use strict';
// The command is bundled into dist/ by `npm run build` (also run by `npm install` via prepare).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');

const root = join(__dirname, '..');
if (!existsSync(join(root, 'dist', 'cli.js'))) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}
require(join(root, 'dist', 'cli.js'))
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });

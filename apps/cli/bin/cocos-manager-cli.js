#!/usr/bin/env node
// What npm links as the `cocos-manager-cli` command. It exists before the
// build (npm ci links bins before dist/ is built in a workspace checkout, and
// skips a bin whose file is missing), and runs the built program.
import '../dist/main.js';

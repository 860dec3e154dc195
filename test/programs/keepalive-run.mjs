#!/usr/bin/env node
// `keepalive run` as a command line of its own (dist/cli/run.js's runMain), for the tests while
// src/cli/main.ts does not register the command yet: node keepalive-run.mjs run [options] -- CMD…
import { runMain } from '../../dist/cli/run.js';

process.exitCode = await runMain(process.argv.slice(2));

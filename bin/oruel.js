#!/usr/bin/env node
// The published entry point runs the compiled CLI (built by `npm ci` through `prepare`).
// The heap hold comes first and the CLI is imported dynamically, so that the hold is in place
// before the CLI's few hundred modules are parsed (see src/cli/startup-heap.ts).
import '../dist/cli/startup-heap.js';

await import('../dist/cli/index.js');

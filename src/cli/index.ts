import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerKeysCommand } from './keys.js';
import { registerModelsCommand } from './models.js';
import { registerServeCommand } from './serve.js';
import { registerUsageCommand } from './usage.js';
import { runCommand } from './run-command.js';

const program = new Command('oruel')
  .description('Oru-el: an OpenAI-compatible inference API (embedded llama.cpp and a gateway to GPU engines).')
  .version(packageVersion(), '-V, --version', 'print the version')
  .showHelpAfterError();

registerServeCommand(program);
registerKeysCommand(program);
registerUsageCommand(program);
registerModelsCommand(program);

await runCommand(() => program.parseAsync(process.argv));

/** The version in package.json, two folders up from both src/cli and dist/cli. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

import { Command } from 'commander';
import { registerKeysCommand } from './keys.js';
import { registerModelsCommand } from './models.js';
import { registerServeCommand } from './serve.js';
import { registerUsageCommand } from './usage.js';
import { runCommand } from './run-command.js';

const program = new Command('oruel')
  .description('Oru-el: an OpenAI-compatible inference API (embedded llama.cpp and a gateway to GPU engines).')
  .showHelpAfterError();

registerServeCommand(program);
registerKeysCommand(program);
registerUsageCommand(program);
registerModelsCommand(program);

await runCommand(() => program.parseAsync(process.argv));

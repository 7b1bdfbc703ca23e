/**
 * `npx tsx bench/gateway/profile-summary.ts FILE.cpuprofile [TOP] [SKIP_MS]`: where a V8 CPU profile (from
 * `main.ts --cpu-prof DIR`) spends its time, leaving out the first SKIP_MS (start-up, module loading): self time by function and by area (our src/ folders,
 * node internals, libraries), so a missed target names what costs the time.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function area(url: string): string {
  if (url === '') return '(native / gc / idle)';
  const source = /\/src\/([^/]+)\//.exec(url);
  if (source && !url.includes('node_modules')) return `src/${source[1]}`;
  const library = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (library) return library[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url.replace(/^.*\//, '');
}

function main(): void {
  const [file, topArgument, skipArgument] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [TOP] [SKIP_MS]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const top = Number(topArgument ?? 30);
  const skipMicros = Number(skipArgument ?? 0) * 1000;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    elapsed += delta;
    if (elapsed >= skipMicros) selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  });
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)' || frame.functionName === '(program)') continue;
    total += micros;
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules\/|src\/|bench\/|test\/)/, '$1')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byArea.set(area(frame.url), (byArea.get(area(frame.url)) ?? 0) + micros);
  }
  const print = (title: string, entries: Map<string, number>, limit: number) => {
    process.stdout.write(`\n${title} (busy ${(total / 1000).toFixed(0)} ms)\n`);
    for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      process.stdout.write(
        `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(1).padStart(8)} ms  ${name}\n`,
      );
    }
  };
  print('self time by area', byArea, 25);
  print('self time by function', byFunction, top);
}

main();

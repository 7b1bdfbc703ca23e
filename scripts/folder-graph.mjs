// Prints the dependency graph of src/ folded to folders (one line per folder: what it imports) and
// the folder cycles: pairs that import each other, and groups that reach each other through others.
// Files come from madge (`npm run deps:cycles` is the file-level check); run: `npm run deps:graph`.
import madge from 'madge';

const result = await madge('src', { fileExtensions: ['ts'], tsConfig: 'tsconfig.json' });
const edges = new Map();
for (const [file, imports] of Object.entries(result.obj())) {
  const from = folderOf(file);
  const targets = edges.get(from) ?? new Set();
  for (const imported of imports) if (folderOf(imported) !== from) targets.add(folderOf(imported));
  edges.set(from, targets);
}

for (const [from, targets] of [...edges].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`${from} -> ${[...targets].sort().join(', ') || '(nothing)'}`);
}
const pairs = [...edges].flatMap(([from, targets]) =>
  [...targets].filter((to) => from < to && edges.get(to)?.has(from)).map((to) => `${from} <-> ${to}`),
);
const groups = stronglyConnected(edges).filter((group) => group.length > 1);
console.log(`\nfolder pairs importing each other: ${pairs.length}${pairs.length ? `\n  ${pairs.join('\n  ')}` : ''}`);
console.log(
  `folder cycles (groups that reach each other): ${groups.length}${groups.length ? `\n  ${groups.map((g) => g.join(' -> ')).join('\n  ')}` : ''}`,
);
if (process.argv.includes('--check') && groups.length > 0) process.exitCode = 1;

/** engines/<backend> and http/<sub> are steps of their own; `main` is the composition root. */
function folderOf(file) {
  const parts = file.split('/');
  if (parts.length === 1) return parts[0].replace(/\.ts$/, '');
  if (parts[0] === 'engines' && parts.length > 2) return `engines/${parts[1]}`;
  return parts[0];
}

/** Tarjan's algorithm: the strongly connected components of the folder graph. */
function stronglyConnected(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (node) => {
    index.set(node, index.size);
    low.set(node, index.get(node));
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node), index.get(next)));
    }
    if (low.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    components.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return components;
}

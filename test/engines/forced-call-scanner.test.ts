import { expect, it } from 'vitest';
import { ForcedCallScanner } from '../../src/engines/llama-cpp/forced-call-scanner.js';
function run(text: string, depth: 1 | 2, split: number) {
  const calls: { name: string; args: string }[] = [];
  const s = new ForcedCallScanner(depth, {
    onCallStart: (i, name) => (calls[i] = { name, args: '' }),
    onArguments: (i, t) => (calls[i]!.args += t),
  });
  for (let i = 0; i < text.length; i += split) s.push(text.slice(i, i + split));
  return calls;
}
it('scans', () => {
  const one = '{"name": "get_weather", "arguments": {"location": "To}k\\"yo", "n": [1, {"a": 2}]}}';
  for (const split of [1, 2, 3, 7, 100])
    expect(run(one, 1, split)).toEqual([
      { name: 'get_weather', args: '{"location": "To}k\\"yo", "n": [1, {"a": 2}]}' },
    ]);
  const many = '[{"name": "a", "arguments": {}}, {"name":"b","arguments":{"x":"]"}}]';
  for (const split of [1, 5])
    expect(run(many, 2, split)).toEqual([
      { name: 'a', args: '{}' },
      { name: 'b', args: '{"x":"]"}' },
    ]);
});

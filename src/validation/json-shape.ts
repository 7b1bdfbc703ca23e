/** Size and depth of a parsed JSON value, walked without recursion (a deep value must not overflow the stack). */
export interface JsonShape {
  /** Values counted (objects, arrays and primitives). */
  nodes: number;
  /** Deepest nesting of objects and arrays (a primitive alone is 0). */
  depth: number;
}

/**
 * Walks `value`, stopping as soon as either bound is passed (the result then exceeds it), so the
 * cost is bounded by the input's size and the limits, never by its depth.
 */
export function measureJson(value: unknown, limits: { maxNodes: number; maxDepth: number }): JsonShape {
  if (!isContainer(value)) return { nodes: 1, depth: 0 };
  const stack: { value: object; depth: number }[] = [{ value, depth: 1 }];
  let nodes = 1;
  let depth = 0;
  while (stack.length > 0) {
    const item = stack.pop()!;
    depth = Math.max(depth, item.depth);
    const children: unknown[] = Array.isArray(item.value) ? item.value : Object.values(item.value);
    nodes += children.length;
    if (nodes > limits.maxNodes || depth > limits.maxDepth) break;
    for (const child of children) if (isContainer(child)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return { nodes, depth };
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

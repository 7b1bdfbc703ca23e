/**
 * ['messages', 0, 'content'] -> "messages[0].content", as OpenAI names params. Shared by every
 * body that is validated with zod (the chat request, the admin API's key bodies).
 */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
}

import type { ChatRequestBody } from './chat-types.js';

export type SnippetLanguage = 'curl' | 'python' | 'js';

/**
 * The request just made, as code to paste. The key is read from ORUEL_API_KEY rather than written
 * into the snippet: snippets end up in chats, tickets and screenshots.
 */
export function requestSnippet(language: SnippetLanguage, baseURL: string, body: ChatRequestBody): string {
  switch (language) {
    case 'curl':
      return curlSnippet(baseURL, body);
    case 'python':
      return pythonSnippet(baseURL, body);
    case 'js':
      return jsSnippet(baseURL, body);
    default: {
      const unknown: never = language;
      throw new Error(`unknown snippet language ${String(unknown)}`);
    }
  }
}

function curlSnippet(baseURL: string, body: ChatRequestBody): string {
  const json = JSON.stringify(body, null, 2).replaceAll("'", "'\\''");
  return [
    `curl -N ${baseURL}/chat/completions \\`,
    `  -H "Authorization: Bearer $ORUEL_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '${json}'`,
  ].join('\n');
}

function pythonSnippet(baseURL: string, body: ChatRequestBody): string {
  const { stream, ...rest } = body;
  const args = Object.entries(rest)
    .map(([name, value]) => `    ${name}=${pythonLiteral(value, 4)},`)
    .join('\n');
  const lines = [
    'import os',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${JSON.stringify(baseURL)}, api_key=os.environ["ORUEL_API_KEY"])`,
    '',
  ];
  if (stream) {
    lines.push(
      'stream = client.chat.completions.create(',
      args,
      '    stream=True,',
      ')',
      'for chunk in stream:',
      '    if chunk.choices and chunk.choices[0].delta.content:',
      '        print(chunk.choices[0].delta.content, end="", flush=True)',
      'print()',
    );
  } else {
    lines.push(
      'completion = client.chat.completions.create(',
      args,
      ')',
      'print(completion.choices[0].message.content)',
    );
  }
  return lines.join('\n');
}

function jsSnippet(baseURL: string, body: ChatRequestBody): string {
  const params = JSON.stringify(body, null, 2);
  const lines = [
    'import OpenAI from "openai";',
    '',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(baseURL)}, apiKey: process.env.ORUEL_API_KEY });`,
    '',
  ];
  if (body.stream) {
    lines.push(
      `const stream = await client.chat.completions.create(${params});`,
      'for await (const chunk of stream) {',
      '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");',
      '}',
    );
  } else {
    lines.push(
      `const completion = await client.chat.completions.create(${params});`,
      'console.log(completion.choices[0].message.content);',
    );
  }
  return lines.join('\n');
}

/** JSON as Python: true/false/None, the rest is the same syntax. */
function pythonLiteral(value: unknown, indent: number): string {
  const pad = ' '.repeat(indent);
  const text = JSON.stringify(value, null, 4) ?? 'None';
  return text
    .replace(
      /("(?:[^"\\]|\\.)*")|\b(true|false|null)\b/g,
      (match, quoted: string | undefined, word: string | undefined) => {
        if (quoted) return quoted;
        return word === 'true' ? 'True' : word === 'false' ? 'False' : 'None';
      },
    )
    .split('\n')
    .map((line, index) => (index === 0 ? line : pad + line))
    .join('\n');
}

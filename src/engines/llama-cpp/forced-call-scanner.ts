export interface ForcedCallEvents {
  /** A call's name is complete: the first fragment of a tool call can go out. */
  onCallStart(callIndex: number, name: string): void;
  /** More characters of a call's `arguments` JSON, exactly as generated. */
  onArguments(callIndex: number, text: string): void;
}

type State =
  'outside' | 'expect-key' | 'in-key' | 'expect-colon' | 'expect-value' | 'in-name' | 'in-arguments' | 'after-value';

/**
 * Reads grammar-forced tool calls as they are generated, `{"name": "...", "arguments": {...}}` (or an
 * array of them), and reports each call's name and its arguments text as soon as each character
 * exists, so arguments stream token by token instead of arriving at the end.
 * It follows only what the forcing grammar can produce: "name" (a string) before "arguments" (an object).
 */
export class ForcedCallScanner {
  private state: State = 'outside';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private callIndex = -1;
  private key = '';
  private name = '';
  /** Depth outside the arguments object: reaching it again closes the arguments. */
  private argumentsDepth = 0;

  /** `callDepth`: 1 when the output is one call object, 2 when it is an array of calls. */
  constructor(
    private readonly callDepth: 1 | 2,
    private readonly events: ForcedCallEvents,
  ) {}

  /** Number of calls whose name is complete. */
  get calls(): number {
    return this.callIndex + 1;
  }

  push(text: string): void {
    let argumentsText = '';
    for (const char of text) if (this.step(char)) argumentsText += char;
    if (argumentsText !== '') this.events.onArguments(this.callIndex, argumentsText);
  }

  /** Advances by one character; true when the character is part of a call's arguments. */
  private step(char: string): boolean {
    if (this.inString) return this.stepInString(char);
    if (char === '"') this.inString = true;
    if (char === '{' || char === '[') this.depth += 1;
    if (char === '}' || char === ']') this.depth -= 1;
    return this.stepStructure(char);
  }

  private stepInString(char: string): boolean {
    const inArguments = this.state === 'in-arguments';
    if (this.escaped) this.escaped = false;
    else if (char === '\\') this.escaped = true;
    else if (char === '"') {
      this.inString = false;
      if (this.state === 'in-key') this.state = 'expect-colon';
      if (this.state === 'in-name') this.finishName();
      return inArguments;
    }
    if (this.state === 'in-key') this.key += char;
    if (this.state === 'in-name') this.name += char;
    return inArguments;
  }

  private stepStructure(char: string): boolean {
    switch (this.state) {
      case 'outside':
        if (char === '{' && this.depth === this.callDepth) this.state = 'expect-key';
        return false;
      case 'expect-key':
        if (char === '"') {
          this.key = '';
          this.state = 'in-key';
        }
        if (char === '}') this.state = 'outside';
        return false;
      case 'expect-colon':
        if (char === ':') this.state = 'expect-value';
        return false;
      case 'expect-value':
        return this.startValue(char);
      case 'in-arguments':
        if (this.depth === this.argumentsDepth) this.state = 'after-value';
        return true;
      case 'after-value':
        if (char === ',') this.state = 'expect-key';
        if (char === '}' && this.depth === this.callDepth - 1) this.state = 'outside';
        return false;
      case 'in-key':
      case 'in-name':
        return false;
    }
  }

  private startValue(char: string): boolean {
    if (/\s/.test(char)) return false;
    if (this.key === 'name' && char === '"') {
      this.name = '';
      this.state = 'in-name';
      return false;
    }
    if (this.key === 'arguments' && char === '{') {
      this.argumentsDepth = this.depth - 1;
      this.state = 'in-arguments';
      return true;
    }
    this.state = 'after-value';
    return false;
  }

  private finishName(): void {
    this.callIndex += 1;
    this.state = 'after-value';
    this.events.onCallStart(this.callIndex, unescapeJson(this.name));
  }
}

function unescapeJson(text: string): string {
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return text;
  }
}

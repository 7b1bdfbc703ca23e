import type { StreamPart } from '../engine.js';
import { newToolCallId } from '../../ids/index.js';
import { asRecord, asString } from './json-value.js';

interface CallState {
  /** Our index for the call: distinct per call, in order of appearance. */
  callIndex: number;
  id: string;
  name: string | null;
  upstreamIndex: number | null;
  /** Arguments that arrived before the name: held until the call can be announced. */
  pendingArguments: string;
  started: boolean;
  /** The delta that last touched the call: a second named fragment in the same delta is another call. */
  lastDelta: number;
}

/**
 * Turns one choice's upstream tool-call fragments into well-formed parts, whatever the dialect:
 * - a repeated `id` or `name` on later fragments is dropped (their arguments are kept);
 * - a fragment without a `function` object still counts (its fields may sit at the top level);
 * - calls that all arrive on `index: 0`, or without an index (Ollama), are told apart by a new `id`,
 *   a different name, or a second named fragment within the same delta;
 * - a call without an id gets a `call_...` one;
 * - arguments sent as an object (some Ollama versions) are serialized; the arguments of one call
 *   concatenate, in order, to the full text the upstream sent.
 */
export class ToolCallRepair {
  private readonly calls: CallState[] = [];
  private readonly byId = new Map<string, CallState>();
  private deltaSerial = 0;

  constructor(
    private readonly choice: number,
    private readonly emit: (part: StreamPart) => void,
  ) {}

  get callCount(): number {
    return this.calls.length;
  }

  /** One delta's `tool_calls` array. */
  accept(fragments: readonly unknown[]): void {
    this.deltaSerial += 1;
    for (const value of fragments) {
      const fragment = asRecord(value);
      if (fragment) this.apply(fragment);
    }
  }

  /** At the choice's end: a call whose name never came is still announced, so its arguments are not lost. */
  finish(): void {
    for (const call of this.calls) if (!call.started) this.start(call, '');
  }

  private apply(fragment: Record<string, unknown>): void {
    const fields = asRecord(fragment.function) ?? fragment;
    const name = nonEmpty(asString(fields.name));
    const call = this.resolve(fragment, name);
    call.lastDelta = this.deltaSerial;
    const argumentsText = argumentsOf(fields.arguments);
    if (!call.started) {
      call.pendingArguments += argumentsText;
      if (name !== null) this.start(call, name);
      return;
    }
    if (argumentsText !== '')
      this.emit({ type: 'tool-call-delta', choice: this.choice, callIndex: call.callIndex, argumentsText });
  }

  private resolve(fragment: Record<string, unknown>, name: string | null): CallState {
    const id = nonEmpty(asString(fragment.id));
    const upstreamIndex = typeof fragment.index === 'number' ? fragment.index : null;
    if (id !== null) return this.byId.get(id) ?? this.create(id, upstreamIndex);
    const existing = upstreamIndex === null ? this.calls.at(-1) : this.latestAt(upstreamIndex);
    if (existing && !this.isAnotherCall(existing, name)) return existing;
    return this.create(newToolCallId(), upstreamIndex);
  }

  /** A named fragment that cannot be a repetition: another name, or a second name in the same delta. */
  private isAnotherCall(existing: CallState, name: string | null): boolean {
    if (name === null || existing.name === null) return false;
    return name !== existing.name || existing.lastDelta === this.deltaSerial;
  }

  private latestAt(upstreamIndex: number): CallState | undefined {
    for (let index = this.calls.length - 1; index >= 0; index -= 1) {
      const call = this.calls[index]!;
      if (call.upstreamIndex === upstreamIndex) return call;
    }
    return undefined;
  }

  private create(id: string, upstreamIndex: number | null): CallState {
    const call: CallState = {
      callIndex: this.calls.length,
      id,
      name: null,
      upstreamIndex,
      pendingArguments: '',
      started: false,
      lastDelta: this.deltaSerial,
    };
    this.calls.push(call);
    this.byId.set(id, call);
    return call;
  }

  private start(call: CallState, name: string): void {
    call.name = name;
    call.started = true;
    this.emit({
      type: 'tool-call-start',
      choice: this.choice,
      callIndex: call.callIndex,
      callId: call.id,
      toolName: name,
    });
    if (call.pendingArguments !== '') {
      this.emit({
        type: 'tool-call-delta',
        choice: this.choice,
        callIndex: call.callIndex,
        argumentsText: call.pendingArguments,
      });
      call.pendingArguments = '';
    }
  }
}

function nonEmpty(text: string | null): string | null {
  return text === null || text === '' ? null : text;
}

function argumentsOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}

import { BUDGET_PERIODS, type KeyPatch, type NewKeyInput, type TokenBudget } from '../auth/index.js';
import { OperatorError } from '../errors/index.js';

/** The options of `keys create` and `keys update`, as commander hands them over (text). */
export interface KeyOptions {
  name?: string;
  models?: string;
  allModels?: boolean;
  rpm?: string;
  tpm?: string;
  maxConcurrent?: string;
  budget?: string;
  expires?: string;
}

/** Written in place of a value, `none` (or `never` for --expires) clears a setting in `keys update`. */
const CLEAR = 'none';
export const ISO_EXAMPLE = 'e.g. 2026-01-31, 2026-01-31T12:00:00Z; a date alone is midnight UTC';
export const BUDGET_EXAMPLE = `TOKENS/PERIOD, PERIOD one of ${BUDGET_PERIODS.join(', ')} (UTC), e.g. 1000000/month`;

export function newKeyInput(options: KeyOptions): NewKeyInput {
  return {
    name: options.name ?? 'unnamed',
    models: options.models === undefined ? null : modelList(options.models),
    rpm: options.rpm === undefined ? null : count(options.rpm, '--rpm'),
    tpm: options.tpm === undefined ? null : count(options.tpm, '--tpm'),
    maxConcurrent: options.maxConcurrent === undefined ? null : count(options.maxConcurrent, '--max-concurrent'),
    budget: options.budget === undefined ? null : budget(options.budget),
    expiresAt: options.expires === undefined ? null : futureDate(options.expires),
  };
}

/** Only the options given; `none` clears a limit or the budget, `never` the expiry, --all-models the allow-list. */
export function keyPatch(options: KeyOptions): KeyPatch {
  if (options.models !== undefined && options.allModels)
    throw new OperatorError('Give either --models or --all-models, not both.');
  const patch: KeyPatch = {};
  if (options.name !== undefined) patch.name = options.name;
  if (options.models !== undefined) patch.models = modelList(options.models);
  if (options.allModels) patch.models = null;
  if (options.rpm !== undefined) patch.rpm = clearable(options.rpm, (text) => count(text, '--rpm'));
  if (options.tpm !== undefined) patch.tpm = clearable(options.tpm, (text) => count(text, '--tpm'));
  if (options.maxConcurrent !== undefined)
    patch.maxConcurrent = clearable(options.maxConcurrent, (text) => count(text, '--max-concurrent'));
  if (options.budget !== undefined) patch.budget = clearable(options.budget, budget);
  if (options.expires !== undefined)
    patch.expiresAt = options.expires.trim() === 'never' ? null : parseIsoDate(options.expires, '--expires');
  if (Object.keys(patch).length === 0)
    throw new OperatorError('Nothing to update: give at least one option (see `oruel keys update --help`).');
  return patch;
}

function clearable<T>(text: string, parse: (text: string) => T): T | null {
  return text.trim() === CLEAR ? null : parse(text);
}

function modelList(text: string): string[] {
  // `none` clears limits elsewhere; here it would be stored as a model named "none" that nothing serves.
  if (['none', 'all'].includes(text.trim())) {
    throw new OperatorError(
      `--models ${text.trim()} is not a model list: give model names (--models a,b), or --all-models to allow every model (keys update), or leave --models out (keys create).`,
    );
  }
  const models = text
    .split(',')
    .map((model) => model.trim())
    .filter((model) => model !== '');
  if (models.length === 0) throw new OperatorError('--models names no model; leave it out to allow every model.');
  return models;
}

function count(text: string, option: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw new OperatorError(`${option} must be a whole number of at least 1, got "${text}".`);
  return Number(text);
}

function budget(text: string): TokenBudget {
  const match = /^\s*(\d+)\s*\/\s*([a-z]+)\s*$/.exec(text);
  const period = BUDGET_PERIODS.find((candidate) => candidate === match?.[2]);
  if (!match || period === undefined || Number(match[1]) < 1)
    throw new OperatorError(`--budget must be ${BUDGET_EXAMPLE}; got "${text}".`);
  return { tokens: Number(match[1]), period };
}

function futureDate(text: string): Date {
  const date = parseIsoDate(text, '--expires');
  if (date.getTime() <= Date.now()) throw new OperatorError(`--expires ${text} is in the past.`);
  return date;
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * An ISO 8601 date or date-time, strictly: JavaScript alone would take "2024-02-30" for March 1st
 * and many non-ISO strings. A date-time without an offset is local time, as in JavaScript.
 */
export function parseIsoDate(text: string, option: string): Date {
  const match = ISO_DATE_TIME.exec(text.trim());
  const date = new Date(text.trim());
  if (!match || Number.isNaN(date.getTime()) || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw new OperatorError(`${option} must be an ISO 8601 date or date-time (${ISO_EXAMPLE}), got "${text}".`);
  }
  return date;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

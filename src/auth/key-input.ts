import { OperatorError } from '../errors/index.js';
import { MAX_INTEGER_COLUMN } from '../storage/index.js';
import { BUDGET_PERIODS, type BudgetPeriod, type KeyPatch, type NewKeyInput, type TokenBudget } from './key-store.js';

const MAX_NAME_LENGTH = 200;
const MAX_MODEL_NAME_LENGTH = 256;
/** Budgets live in a bigint column and in Redis/Lua doubles: stay well inside 2^53. */
const MAX_BUDGET_TOKENS = 1e15;

/** A key cannot be created with these values; the message says which field and why. */
export class InvalidKeyInputError extends OperatorError {
  constructor(
    readonly field: keyof NewKeyInput,
    message: string,
  ) {
    super(message);
  }
}

export type ValidKeyInput = Required<NewKeyInput>;

/** Checks and normalizes (trims the name, removes duplicate models) what a new key may hold. */
export function validateKeyInput(input: NewKeyInput): ValidKeyInput {
  return {
    name: validName(input.name),
    models: validModels(input.models ?? null),
    rpm: validLimit('rpm', input.rpm ?? null),
    tpm: validLimit('tpm', input.tpm ?? null),
    maxConcurrent: validLimit('maxConcurrent', input.maxConcurrent ?? null),
    budget: validBudget(input.budget ?? null),
    expiresAt: validExpiry(input.expiresAt ?? null),
  };
}

/** The same checks for the fields a patch sets; absent fields stay absent. */
export function validateKeyPatch(patch: KeyPatch): KeyPatch {
  const valid: KeyPatch = {};
  if (patch.name !== undefined) valid.name = validName(patch.name);
  if (patch.models !== undefined) valid.models = validModels(patch.models);
  if (patch.rpm !== undefined) valid.rpm = validLimit('rpm', patch.rpm);
  if (patch.tpm !== undefined) valid.tpm = validLimit('tpm', patch.tpm);
  if (patch.maxConcurrent !== undefined) valid.maxConcurrent = validLimit('maxConcurrent', patch.maxConcurrent);
  if (patch.budget !== undefined) valid.budget = validBudget(patch.budget);
  if (patch.expiresAt !== undefined) valid.expiresAt = validExpiry(patch.expiresAt);
  return valid;
}

function validName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw new InvalidKeyInputError('name', 'A key needs a name.');
  if (trimmed.length > MAX_NAME_LENGTH)
    throw new InvalidKeyInputError('name', `A key name has at most ${MAX_NAME_LENGTH} characters.`);
  return trimmed;
}

function validModels(models: string[] | null): string[] | null {
  if (models === null) return null;
  const names = [...new Set(models.map((model) => model.trim()))];
  if (names.length === 0)
    throw new InvalidKeyInputError('models', 'The model list is empty; leave it out to allow every model.');
  for (const name of names) {
    if (name === '' || name.length > MAX_MODEL_NAME_LENGTH) {
      throw new InvalidKeyInputError('models', `Model names have 1 to ${MAX_MODEL_NAME_LENGTH} characters.`);
    }
  }
  return names;
}

function validLimit(field: 'rpm' | 'tpm' | 'maxConcurrent', value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isInteger(value) || value < 1 || value > MAX_INTEGER_COLUMN) {
    throw new InvalidKeyInputError(
      field,
      `${field} must be a whole number from 1 to ${MAX_INTEGER_COLUMN}, got ${value}.`,
    );
  }
  return value;
}

function validBudget(budget: TokenBudget | null): TokenBudget | null {
  if (budget === null) return null;
  if (!Number.isInteger(budget.tokens) || budget.tokens < 1 || budget.tokens > MAX_BUDGET_TOKENS) {
    throw new InvalidKeyInputError(
      'budget',
      `budget.tokens must be a whole number from 1 to ${MAX_BUDGET_TOKENS}, got ${budget.tokens}.`,
    );
  }
  if (!isBudgetPeriod(budget.period)) {
    throw new InvalidKeyInputError(
      'budget',
      `budget.period must be one of ${BUDGET_PERIODS.join(', ')}, got "${String(budget.period)}".`,
    );
  }
  return { tokens: budget.tokens, period: budget.period };
}

export function isBudgetPeriod(value: unknown): value is BudgetPeriod {
  return (BUDGET_PERIODS as readonly unknown[]).includes(value);
}

function validExpiry(expiresAt: Date | null): Date | null {
  if (expiresAt === null) return null;
  if (Number.isNaN(expiresAt.getTime())) throw new InvalidKeyInputError('expiresAt', 'The expiry is not a valid date.');
  return expiresAt;
}

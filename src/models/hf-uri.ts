import { join } from 'node:path';
import { OperatorError } from '../errors/index.js';

/**
 * A model file in a Hugging Face repository, written
 *
 *     hf:OWNER/REPO[@REVISION]/PATH/TO/FILE.gguf
 *
 * e.g. `hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf` or, pinned,
 * `hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF@9217f5d/qwen2.5-0.5b-instruct-q4_k_m.gguf`.
 * The revision (branch, tag or commit) belongs to the repository, so it sits right after it; it
 * defaults to `main`. It cannot contain `/` (the path starts there): write a ref such as
 * `refs/pr/1` URL-encoded, `@refs%2Fpr%2F1`, as Hugging Face itself accepts.
 */
export interface HfModelRef {
  owner: string;
  repo: string;
  revision: string;
  /** Path of the file inside the repository, `/`-separated, never containing `.` or `..`. */
  path: string;
}

export const HF_URI_PREFIX = 'hf:';
const DEFAULT_REVISION = 'main';

const SYNTAX = 'hf:OWNER/REPO[@REVISION]/PATH/TO/FILE.gguf';
// Hugging Face's own rules for user, organization and repository names.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const REVISION_PATTERN = /^[A-Za-z0-9._%-]+$/;

export function isHfUri(spec: string): boolean {
  return spec.startsWith(HF_URI_PREFIX);
}

/** Parses an `hf:` URI; a malformed one is an OperatorError that shows the expected syntax. */
export function parseHfUri(uri: string): HfModelRef {
  if (!isHfUri(uri)) throw malformed(uri, `it must start with "${HF_URI_PREFIX}"`);
  const segments = uri.slice(HF_URI_PREFIX.length).split('/');
  const [owner, repoAndRevision, ...pathSegments] = segments;
  if (owner === undefined || repoAndRevision === undefined || pathSegments.length === 0) {
    throw malformed(uri, 'it needs an owner, a repository and a file path');
  }
  const { repo, revision } = splitRevision(uri, repoAndRevision);
  checkName(uri, 'owner', owner);
  checkName(uri, 'repository', repo);
  for (const segment of pathSegments) checkPathSegment(uri, segment);
  const path = pathSegments.join('/');
  if (!path.toLowerCase().endsWith('.gguf')) throw malformed(uri, 'the file must be a .gguf file');
  return { owner, repo, revision, path };
}

/** The canonical URI: the revision is written only when it is not the default. */
export function formatHfUri(ref: HfModelRef): string {
  const revision = ref.revision === DEFAULT_REVISION ? '' : `@${ref.revision}`;
  return `${HF_URI_PREFIX}${ref.owner}/${ref.repo}${revision}/${ref.path}`;
}

/** `${hfEndpoint}/${owner}/${repo}/resolve/${revision}/${path}`, the file's download address. */
export function hfDownloadUrl(ref: HfModelRef, hfEndpoint: string): string {
  const base = hfEndpoint.replace(/\/+$/, '');
  const encodedPath = ref.path.split('/').map(encodeURIComponent).join('/');
  // The revision is already URL-encoded by the syntax's rules (`%2F` for `/`).
  return `${base}/${ref.owner}/${ref.repo}/resolve/${ref.revision}/${encodedPath}`;
}

/**
 * `${modelsDir}/${owner}/${repo}/${path}` for the default revision. Another revision gets its own
 * directory, `${repo}@${revision}`, so a pinned file never silently reuses a download of `main`
 * (`@` cannot occur in a repository name, so the two never collide).
 */
export function hfLocalPath(ref: HfModelRef, modelsDir: string): string {
  return join(modelsDir, ref.owner, repoDirectoryName(ref), ...ref.path.split('/'));
}

function repoDirectoryName(ref: Pick<HfModelRef, 'repo' | 'revision'>): string {
  return ref.revision === DEFAULT_REVISION ? ref.repo : `${ref.repo}@${ref.revision}`;
}

function splitRevision(uri: string, repoAndRevision: string): { repo: string; revision: string } {
  const at = repoAndRevision.indexOf('@');
  if (at === -1) return { repo: repoAndRevision, revision: DEFAULT_REVISION };
  const revision = repoAndRevision.slice(at + 1);
  if (!REVISION_PATTERN.test(revision)) {
    throw malformed(uri, `the revision "${revision}" may contain only letters, digits, ".", "_", "-" and "%"`);
  }
  return { repo: repoAndRevision.slice(0, at), revision };
}

function checkName(uri: string, what: string, name: string): void {
  if (name === '') throw malformed(uri, `the ${what} is empty`);
  if (!NAME_PATTERN.test(name) || name === '.' || name === '..') {
    throw malformed(uri, `the ${what} "${name}" may contain only letters, digits, ".", "_" and "-"`);
  }
}

function checkPathSegment(uri: string, segment: string): void {
  if (segment === '') throw malformed(uri, 'the file path has an empty segment ("//" or a trailing "/")');
  if (segment === '.' || segment === '..') throw malformed(uri, `the file path may not contain "${segment}" segments`);
  if (hasUnsafeCharacter(segment)) throw malformed(uri, 'the file path contains a backslash or a control character');
}

/** Path segments become directory names on disk: keep out foreign separators and control characters. */
function hasUnsafeCharacter(segment: string): boolean {
  return [...segment].some(
    (character) => character === '\\' || character.charCodeAt(0) < 0x20 || character === '\u007f',
  );
}

function malformed(uri: string, reason: string): OperatorError {
  return new OperatorError(`Malformed model URI "${uri}": ${reason}. Expected ${SYNTAX}.`);
}

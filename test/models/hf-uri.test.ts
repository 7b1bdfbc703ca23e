import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OperatorError } from '../../src/errors/operator-error.js';
import { formatHfUri, hfDownloadUrl, hfLocalPath, parseHfUri } from '../../src/models/hf-uri.js';

describe('parseHfUri', () => {
  it('reads owner, repository and file, with main as the default revision', () => {
    expect(parseHfUri('hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf')).toEqual({
      owner: 'Qwen',
      repo: 'Qwen2.5-0.5B-Instruct-GGUF',
      revision: 'main',
      path: 'qwen2.5-0.5b-instruct-q4_k_m.gguf',
    });
  });

  it('reads a revision after the repository and a path with subfolders', () => {
    expect(parseHfUri('hf:owner/repo@v1.2/sub/dir/model-Q4_K_M.gguf')).toEqual({
      owner: 'owner',
      repo: 'repo',
      revision: 'v1.2',
      path: 'sub/dir/model-Q4_K_M.gguf',
    });
  });

  it.each([
    ['no prefix', 'Qwen/repo/file.gguf'],
    ['no file', 'hf:Qwen/repo'],
    ['only an owner', 'hf:Qwen'],
    ['an empty owner', 'hf:/repo/file.gguf'],
    ['a ".." segment', 'hf:owner/repo/../../etc/file.gguf'],
    ['a "." segment', 'hf:owner/repo/./file.gguf'],
    ['an empty segment', 'hf:owner/repo//file.gguf'],
    ['a trailing slash', 'hf:owner/repo/dir/'],
    ['".." as the repository', 'hf:owner/../file.gguf'],
    ['an empty revision', 'hf:owner/repo@/file.gguf'],
    ['a revision with odd characters', 'hf:owner/repo@a b/file.gguf'],
    ['a backslash', 'hf:owner/repo/dir\\..\\file.gguf'],
    ['a file that is not .gguf', 'hf:owner/repo/model.bin'],
  ])('refuses %s with the expected syntax', (_case, uri) => {
    expect(() => parseHfUri(uri)).toThrow(OperatorError);
    expect(() => parseHfUri(uri)).toThrow(
      /Malformed model URI .*Expected hf:OWNER\/REPO\[@REVISION\]\/PATH\/TO\/FILE\.gguf/,
    );
  });
});

describe('download URL and local path', () => {
  const ref = parseHfUri('hf:owner/repo/sub/my model.gguf');

  it('builds the resolve URL, encoding the path and ignoring a trailing slash on the endpoint', () => {
    expect(hfDownloadUrl(ref, 'https://hf.example/')).toBe(
      'https://hf.example/owner/repo/resolve/main/sub/my%20model.gguf',
    );
    expect(hfDownloadUrl(parseHfUri('hf:o/r@refs%2Fpr%2F1/f.gguf'), 'https://hf.example')).toBe(
      'https://hf.example/o/r/resolve/refs%2Fpr%2F1/f.gguf',
    );
  });

  it('places the default revision at modelsDir/owner/repo/path and others in repo@revision', () => {
    expect(hfLocalPath(ref, '/models')).toBe(join('/models', 'owner', 'repo', 'sub', 'my model.gguf'));
    expect(hfLocalPath(parseHfUri('hf:o/r@abc123/f.gguf'), '/models')).toBe(join('/models', 'o', 'r@abc123', 'f.gguf'));
  });

  it('formats back to the canonical URI', () => {
    expect(formatHfUri(parseHfUri('hf:o/r@main/f.gguf'))).toBe('hf:o/r/f.gguf');
    expect(formatHfUri(parseHfUri('hf:o/r@dev/d/f.gguf'))).toBe('hf:o/r@dev/d/f.gguf');
  });
});

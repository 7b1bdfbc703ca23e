/** Browser storage that never throws (private modes and file: pages may refuse it). */
export function loadSetting(storage: Storage, name: string): string {
  try {
    return storage.getItem(name) ?? '';
  } catch {
    return '';
  }
}

export function saveSetting(storage: Storage, name: string, value: string): void {
  try {
    if (value === '') storage.removeItem(name);
    else storage.setItem(name, value);
  } catch {
    // Storage refused: the value lives for this page only.
  }
}

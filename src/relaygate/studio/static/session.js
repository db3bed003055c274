// The admin key lives in sessionStorage only: it is gone when the tab closes or on sign-out.

const STORAGE_KEY = 'relaygate.studio.adminKey';

export function adminKey() {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function signIn(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** What the Studio shows of the key: its visible prefix, never the secret. */
export function keyLabel(key = adminKey()) {
  if (!key) return '';
  // The same nine characters the server stores as the key's visible prefix ("rg-" + 6).
  return key.length > 16 ? `${key.slice(0, 9)}…` : '…';
}

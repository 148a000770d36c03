// Who is signed in: the bearer token the console sends with every call.
//
// It is kept in sessionStorage, never in local storage: it survives a reload
// of this tab (so does the order on screen, in the URL's fragment), and is
// gone when the tab closes; no other tab or window reads it, and it is
// not kept on disk for a later session. Signing out forgets it at once.
// The page's Content-Security-Policy runs no script but the console's
// own, so no other script on this origin is there to read it.

const key = 'orderapi.console.token';

export function token() {
  return sessionStorage.getItem(key);
}

export function signIn(bearer) {
  sessionStorage.setItem(key, bearer.trim().replace(/^bearer\s+/i, ''));
}

export function signOut() {
  sessionStorage.removeItem(key);
}

// claims are what the token says about its holder, read for display only:
// the API alone decides what the token may do. A token that is not a JWT
// says nothing here.
export function claims(bearer = token()) {
  try {
    const part = bearer.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : {};
  } catch {
    return {};
  }
}

// devTokens reports whether the service hands this browser development
// tokens (ORDERAPI_AUTH=dev, and this browser on the service's machine).
export async function devTokens() {
  const resp = await fetch('/console/config', { headers: { Accept: 'application/json' }, cache: 'no-store' });
  return resp.ok && (await resp.json()).dev_tokens === true;
}

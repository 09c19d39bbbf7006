/**
 * Where the page keeps its token: sessionStorage, so it survives reloads of
 * this tab but not the browser session, and never sits in the address bar
 * (where it would land in history, bookmarks and server logs).
 */
const KEY = 'statistics-dashboard.token'

function storage (): Storage | null {
  try {
    return window.sessionStorage
  } catch {
    return null // storage disabled: the token lives as long as the page
  }
}

/** Takes `?token=` from the address bar, removes it from there, and keeps it. */
export function takeTokenFromAddressBar (): string | null {
  const url = new URL(window.location.href)
  const token = url.searchParams.get('token')
  if (token === null) return null
  url.searchParams.delete('token')
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`)
  if (token.trim() === '') return null
  saveToken(token.trim())
  return token.trim()
}

export function savedToken (): string | null {
  return storage()?.getItem(KEY) ?? null
}

export function saveToken (token: string): void {
  storage()?.setItem(KEY, token)
}

export function forgetToken (): void {
  storage()?.removeItem(KEY)
}

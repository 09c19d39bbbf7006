/**
 * One line that says why the service could not listen and what to do about
 * it, for the errors an operator causes (a port in use, a privileged port,
 * an address this machine does not have). Anything else keeps Node's message.
 */
export function listenFailure (err: unknown, host: string, port: number): string {
  const code = (err as { code?: unknown } | null)?.code
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  switch (code) {
    case 'EADDRINUSE':
      return `could not listen on ${where}: port ${port} is already in use (another copy of the service?). Stop what holds it (\`lsof -i :${port}\` shows it) or start on another port, e.g. PORT=${port === 65535 ? 8000 : port + 1}`
    case 'EACCES':
      return `could not listen on ${where}: ports below 1024 need privileges this user lacks; use a port of 1024 or more, e.g. PORT=8000, behind a proxy if it must be public`
    case 'EADDRNOTAVAIL':
      return `could not listen on ${where}: ${host} is not an address of this machine; set HOST to one of its addresses, 127.0.0.1 or 0.0.0.0`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `could not listen on ${where}: the host name ${host} does not resolve; set HOST to an address, e.g. 127.0.0.1 or 0.0.0.0`
    default:
      return `could not listen on ${where}: ${err instanceof Error ? err.message : String(err)}`
  }
}

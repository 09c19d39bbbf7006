import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'
import { readOpenFileLimit } from '../../src/net/socket-budget.js'

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                524288               files
Max locked memory         8388608              8388608              bytes
`

t.test('the soft open-file limit is read from /proc/self/limits', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'limits-'))
  writeFileSync(join(dir, 'limits'), LIMITS)
  t.equal(readOpenFileLimit(join(dir, 'limits')), 20000, 'the soft limit, not the hard one')
  writeFileSync(join(dir, 'unlimited'), LIMITS.replace('20000 ', 'unlimited'))
  t.equal(readOpenFileLimit(join(dir, 'unlimited')), Number.MAX_SAFE_INTEGER)
  t.equal(readOpenFileLimit(join(dir, 'missing')), null, 'null when it cannot be read')
  writeFileSync(join(dir, 'garbled'), 'nothing here')
  t.equal(readOpenFileLimit(join(dir, 'garbled')), null)
  if (process.platform === 'linux') t.ok((readOpenFileLimit() ?? 0) > 0, 'this process has one')
})

t.test('MAX_SOCKETS defaults to what the open-file limit leaves after the reserve and the HTTP headroom', async t => {
  const config = loadConfig({}, 20000)
  t.match(config, { MAX_SOCKETS: 20000 - 64 - (512 + 64), MAX_PENDING_PER_IP: 512, HEADERS_TIMEOUT_MS: 10_000, REQUEST_TIMEOUT_MS: 30_000, OPEN_FILE_LIMIT: 20000 })
  t.equal(loadConfig({ MAX_PENDING_PER_IP: '100' }, 20000).MAX_SOCKETS, 20000 - 64 - 164, 'a smaller per-address allowance leaves more for WebSockets')
  t.equal(loadConfig({}, null).MAX_SOCKETS, 1024 - 64 - 576, 'an unreadable limit is assumed to be 1024')
  t.equal(loadConfig({ MAX_SOCKETS: '100' }, 20000).MAX_SOCKETS, 100, 'a value that fits is taken')
  t.equal(loadConfig({ MAX_SOCKETS: '50000' }, null).MAX_SOCKETS, 50000, 'an unknown limit cannot refuse an explicit value')
})

t.test('a MAX_SOCKETS above the open-file limit is refused with what fits', async t => {
  const error = t.throws(() => loadConfig({ MAX_SOCKETS: '20000' }, 20000)) as ConfigError
  t.type(error, ConfigError)
  t.match(error.problems, [/^MAX_SOCKETS=20000 does not fit: the open-file limit is 20000; .* at most 19360 WebSockets fit; lower MAX_SOCKETS .* or raise the limit \(ulimit -n/])
  const tiny = t.throws(() => loadConfig({}, 300)) as ConfigError
  t.match(tiny.problems, [/^MAX_SOCKETS cannot be derived: the open-file limit is 300; .*raise the limit/])
  t.match((t.throws(() => loadConfig({ MAX_SOCKETS: '0' }, 20000)) as ConfigError).problems, [/^MAX_SOCKETS=0 is out of range/])
})

t.test('HEADERS_TIMEOUT_MS may not exceed REQUEST_TIMEOUT_MS', async t => {
  const error = t.throws(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '1000' }, 20000)) as ConfigError
  t.match(error.problems, [/^HEADERS_TIMEOUT_MS=5000 must not be larger than REQUEST_TIMEOUT_MS=1000/])
})

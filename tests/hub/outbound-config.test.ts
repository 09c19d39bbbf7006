import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.js'

t.test('slow-consumer limits default to 1 MiB and 8 MiB and must be ordered', async t => {
  const config = loadConfig({})
  t.equal(config.SLOW_CONSUMER_SOFT_BYTES, 1024 * 1024)
  t.equal(config.SLOW_CONSUMER_HARD_BYTES, 8 * 1024 * 1024)
  t.equal(config.FANOUT_SLICE_SIZE, 500)
  t.throws(() => loadConfig({ SLOW_CONSUMER_SOFT_BYTES: '4096', SLOW_CONSUMER_HARD_BYTES: '4096' }),
    new ConfigError(['SLOW_CONSUMER_HARD_BYTES=4096 must be larger than SLOW_CONSUMER_SOFT_BYTES=4096']))
  t.throws(() => loadConfig({ FANOUT_SLICE_SIZE: '0' }), /FANOUT_SLICE_SIZE=0 is out of range/)
})

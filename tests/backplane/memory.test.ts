import t from 'tap'
import { testConfig } from '../helper.js'
import { backplaneContract } from './contract.js'

t.test('the in-memory backplane keeps the backplane contract', async t => {
  await backplaneContract(t, async (_t, overrides) => testConfig({ ...overrides, REDIS_URL: null }))
})

import t from 'tap'
import { endpoints } from '../../src/client/endpoints.js'

t.test('http(s) and ws(s) base URLs give the socket and polling URLs, keeping a path prefix', async t => {
  t.same(endpoints('http://localhost:8000'), { ws: 'ws://localhost:8000/api/ws/statistics', poll: 'http://localhost:8000/api/statistics' })
  t.same(endpoints('https://stats.example.com/prefix/'), { ws: 'wss://stats.example.com/prefix/api/ws/statistics', poll: 'https://stats.example.com/prefix/api/statistics' })
  t.same(endpoints('wss://stats.example.com/p/api/ws/statistics'), { ws: 'wss://stats.example.com/p/api/ws/statistics', poll: 'https://stats.example.com/p/api/statistics' })
  t.same(endpoints('ws://[::1]:9000'), { ws: 'ws://[::1]:9000/api/ws/statistics', poll: 'http://[::1]:9000/api/statistics' })
})

t.test('without a url outside a page, or with another scheme, it says what to pass', async t => {
  t.throws(() => endpoints(undefined), /pass options.url/)
  t.throws(() => endpoints('ftp://x'), /url must be http\(s\) or ws\(s\), got ftp:/)
})

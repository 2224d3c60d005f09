import t from 'tap'
import { parseRedisUrl, RedisUrlError } from '../../src/store/redis/redis-url.js'

// Issue 14: the multi-host URLs the README, docs/operations.md and deploy/k8s/secret.yaml document
// are read by our own parser (Node's URL refuses a host list), and a bad one is refused with a reason.

const local = (...ports: number[]) => ports.map(port => ({ host: '127.0.0.1', port }))
const noAuth = { username: undefined, password: undefined, tls: false }

const accepted: Array<[string, unknown]> = [
  ['redis://127.0.0.1:6379', { kind: 'standalone', url: 'redis://127.0.0.1:6379' }],
  ['rediss://:pw@redis.example:6380/2', { kind: 'standalone', url: 'rediss://:pw@redis.example:6380/2' }],
  ['redis-cluster://127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103', { kind: 'cluster', nodes: local(7101, 7102, 7103), ...noAuth }],
  ['redis-sentinel://127.0.0.1:26411,127.0.0.1:26412,127.0.0.1:26413/mymaster',
    { kind: 'sentinel', sentinels: local(26411, 26412, 26413), name: 'mymaster', db: 0, ...noAuth }],
  ['redis-sentinel://s1,s2:26380/mymaster/3',
    { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }], name: 'mymaster', db: 3, ...noAuth }],
  ['redis-cluster://h1,h2', { kind: 'cluster', nodes: [{ host: 'h1', port: 6379 }, { host: 'h2', port: 6379 }], ...noAuth }],
  ['redis-cluster://s%40cret@h1:7000', { kind: 'cluster', nodes: [{ host: 'h1', port: 7000 }], ...noAuth, password: 's@cret' }],
  ['redis-cluster://:p%3Aw@h1:7000/', { kind: 'cluster', nodes: [{ host: 'h1', port: 7000 }], username: undefined, password: 'p:w', tls: false }],
  ['redis-cluster://app:p%3Aw@h1:7000', { kind: 'cluster', nodes: [{ host: 'h1', port: 7000 }], username: 'app', password: 'p:w', tls: false }],
  ['redis-cluster://:a@b@h1:7000', { kind: 'cluster', nodes: [{ host: 'h1', port: 7000 }], username: undefined, password: 'a@b', tls: false }],
  ['rediss-cluster://:pw@redis-0.redis.svc:6379,[::1]:7000',
    { kind: 'cluster', nodes: [{ host: 'redis-0.redis.svc', port: 6379 }, { host: '::1', port: 7000 }], username: undefined, password: 'pw', tls: true }],
  ['rediss-sentinel://:pw@10.0.0.1:26379/mymaster',
    { kind: 'sentinel', sentinels: [{ host: '10.0.0.1', port: 26379 }], name: 'mymaster', db: 0, username: undefined, password: 'pw', tls: true }],
]

for (const [url, expected] of accepted) {
  t.test(`issue 14: ${url} is read`, async t => {
    t.same(parseRedisUrl(url), expected)
  })
}

const refused: Array<[string, RegExp]> = [
  ['http://127.0.0.1:6379', /must be redis/],
  ['redis-cluster://', /at least one host/],
  ['redis-cluster://127.0.0.1:7101,,127.0.0.1:7102', /malformed host/],
  ['redis-cluster://127.0.0.1:0', /bad port/],
  ['redis-cluster://127.0.0.1:70000', /bad port/],
  ['redis-cluster://127.0.0.1:x', /bad port/],
  ['redis-cluster://127.0.0.1:7101,127.0.0.1:7101', /twice/],
  ['redis-cluster://127.0.0.1:7101/0', /no path/],
  ['redis-cluster://127.0.0.1:7101?tls=true', /no query/],
  ['redis-sentinel://127.0.0.1:26411', /master name/],
  ['redis-sentinel://127.0.0.1:26411/', /master name/],
  ['redis-sentinel://127.0.0.1:26411/my master', /master name/],
  ['redis-sentinel://127.0.0.1:26411/mymaster/x', /database number/],
  ['redis-sentinel://127.0.0.1:26411/mymaster/0/1', /database number/],
  ['redis-cluster://:%zz@h1:7000', /percent-encoding/],
  ['redis://a:1,b:2', /several hosts|not a valid URL/],
  ['redis://127.0.0.1:6379/zero', /database number/],
  ['redis://', /needs a host|not a valid URL/],
]

for (const [url, reason] of refused) {
  t.test(`issue 14: ${url} is refused with a reason that does not repeat the URL`, async t => {
    const err = t.throws(() => parseRedisUrl(url)) as Error
    t.type(err, RedisUrlError)
    t.match(err.message, reason)
    t.notMatch(err.message, /\n/)
    t.notOk(err.message.includes(url), 'the URL (which may hold a password) is not echoed')
  })
}

t.test('issue 14: a password in a refused URL never reaches the message', async t => {
  const err = t.throws(() => parseRedisUrl('redis-cluster://:hunter2-secret@h1:99999')) as Error
  t.notMatch(err.message, /hunter2/)
})

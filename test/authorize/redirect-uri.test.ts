import t from 'tap'
import { isSameRedirectUri } from '../../src/authorize/authorization-request.js'

// Issue 10: exact match, except that a loopback redirect URI may use any port (RFC 8252 §7.3).
for (const c of [
  { registered: 'https://app.example/cb', requested: 'https://app.example/cb', same: true },
  { registered: 'https://app.example/cb', requested: 'https://app.example/cb/', same: false },
  { registered: 'https://app.example/cb', requested: 'https://app.example:8443/cb', same: false },
  { registered: 'https://app.example/cb', requested: 'https://APP.example/cb', same: false },
  { registered: 'com.example.app:/cb', requested: 'com.example.app:/cb', same: true },
  { registered: 'com.example.app:/cb', requested: 'com.example.app:/cb2', same: false },
  { registered: 'http://127.0.0.1/cb', requested: 'http://127.0.0.1:53412/cb', same: true },
  { registered: 'http://127.0.0.1:8080/cb', requested: 'http://127.0.0.1:9090/cb', same: true },
  { registered: 'http://[::1]/cb', requested: 'http://[::1]:61000/cb', same: true },
  { registered: 'http://localhost/cb', requested: 'http://localhost:3001/cb', same: true },
  { registered: 'http://127.0.0.1/cb?a=1', requested: 'http://127.0.0.1:5000/cb?a=1', same: true },
  { registered: 'http://127.0.0.1/cb?a=1', requested: 'http://127.0.0.1:5000/cb?a=2', same: false },
  { registered: 'http://127.0.0.1/cb', requested: 'http://127.0.0.1:5000/other', same: false },
  { registered: 'http://127.0.0.1/cb', requested: 'http://localhost:5000/cb', same: false },
  { registered: 'http://127.0.0.1/cb', requested: 'http://127.0.0.2:5000/cb', same: false },
  { registered: 'http://127.0.0.1/cb', requested: 'http://user@127.0.0.1:5000/cb', same: false },
  { registered: 'http://127.0.0.1/cb', requested: 'http://127.0.0.1:5000/cb#x', same: false },
  { registered: 'http://127.0.0.1/cb', requested: 'https://127.0.0.1:5000/cb', same: false },
  { registered: 'https://127.0.0.1/cb', requested: 'https://127.0.0.1:5000/cb', same: false },
]) {
  t.equal(isSameRedirectUri(c.registered, c.requested), c.same, `${c.requested} ${c.same ? 'matches' : 'does not match'} ${c.registered}`)
}

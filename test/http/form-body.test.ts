import t from 'tap'
import { InvalidRequest } from '../../src/errors.js'
import { parseForm } from '../../src/http/form-body.js'

t.test('issue 12: form values without escapes pass as they are; + and percent escapes are decoded; a bad escape is invalid_request', async t => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln_-'
  t.same({ ...parseForm(`token=${jwt}&grant_type=client_credentials`) }, { token: jwt, grant_type: 'client_credentials' })
  t.same({ ...parseForm('scope=read+write&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&a%2Bb=1') },
    { scope: 'read write', redirect_uri: 'https://app.example/cb', 'a+b': '1' })
  t.same({ ...parseForm('x=a&x=b%20c&flag') }, { x: ['a', 'b c'], flag: '' })
  t.throws(() => parseForm('token=%E0%A4%A'), InvalidRequest)
  t.throws(() => parseForm('to%zzken=1'), InvalidRequest)
})

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './server.js'
import { sleep } from './clock.js'

interface Teardown { teardown(fn: () => unknown): void }

/** The nginx binary (Debian's), or undefined to skip; under CI=true its absence is an error. */
export function nginxBinary(): string | undefined {
  const found = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'].find(p => existsSync(p))
  if (!found && process.env.CI === 'true') throw new Error('CI=true but nginx is not installed (.ci/run installs it)')
  return found
}

export interface Nginx { url: string; port: number; errorLog(): Promise<string> }

/**
 * Runs nginx as a child process in front of Sigil instances on 127.0.0.1:`ports`, from a
 * minimal configuration written to a temp dir; stopped (SIGQUIT) and cleaned up at teardown.
 * Every response carries `X-Upstream` ($upstream_addr: the instance(s) tried, in order).
 */
export async function startNginx(t: Teardown, binary: string, ports: number[], port?: number): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'sigil-nginx-'))
  // nginx's workers drop root: they must reach the temp paths inside.
  await chmod(dir, 0o755)
  const listen = port ?? await freePort()
  const conf = join(dir, 'nginx.conf')
  await writeFile(conf, `
worker_processes 1;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream sigil {
${ports.map(p => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://sigil;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_connect_timeout 2s;
      # A request that met a refused or reset connection (an instance restarting, or closing an
      # idle keep-alive connection as it drains) goes to the other instance. non_idempotent lets
      # nginx do so for POST too (token, revoke, introspect): without it such a POST fails with
      # 502, and zero loss is impossible. A draining instance answers everything it has read, so
      # a retry resends only what it never saw; the cost is an instance that dies mid-request
      # (or a timeout): then a POST may run twice (a refresh token twice is reuse, unless
      # REFRESH_REUSE_GRACE covers it).
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 2;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`)
  const child = spawn(binary, ['-e', 'stderr', '-p', dir, '-c', conf, '-g', `daemon off; pid ${dir}/nginx.pid;`], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', d => { stderr += d })
  const exited = new Promise(resolve => child.on('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT')
    await exited
    await rm(dir, { recursive: true, force: true })
  })
  const url = `http://127.0.0.1:${listen}`
  const deadline = Date.now() + 10_000
  while (!(await fetch(`${url}/healthz`).then(() => true, () => false))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`)
    await sleep(100)
  }
  return { url, port: listen, errorLog: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => '') }
}

#!/usr/bin/env node
// Validates Kubernetes manifests offline against the API schemas bundled in the
// `kubernetes-models` package (a devDependency), without a cluster.
//
//   node deploy/validate-k8s.mjs [file-or-directory ...]     (default: deploy/k8s)
//
// For every YAML document: the apiVersion/kind must be one of KINDS below (anything else
// fails), the object must pass the model's schema validation, and it must not contain
// fields the schema does not know (kubernetes-models ignores unknown fields, kubectl's
// server-side validation rejects them: a typo like `readinesProbe` would otherwise pass
// here and fail, or be silently dropped, on a cluster). Then a few cross-references that
// a schema cannot see: selectors, config/secret references, probe ports, grace period.
// Prints one line per document; exits 1 on any problem.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

// apiVersion/kind -> model class. Add a line here to allow another kind.
const KINDS = {
  'v1/ConfigMap': () => import('kubernetes-models/v1/ConfigMap').then(m => m.ConfigMap),
  'v1/Secret': () => import('kubernetes-models/v1/Secret').then(m => m.Secret),
  'v1/Service': () => import('kubernetes-models/v1/Service').then(m => m.Service),
  'v1/ServiceAccount': () => import('kubernetes-models/v1/ServiceAccount').then(m => m.ServiceAccount),
  'v1/Namespace': () => import('kubernetes-models/v1/Namespace').then(m => m.Namespace),
  'apps/v1/Deployment': () => import('kubernetes-models/apps/v1/Deployment').then(m => m.Deployment),
  'batch/v1/Job': () => import('kubernetes-models/batch/v1/Job').then(m => m.Job),
  'policy/v1/PodDisruptionBudget': () => import('kubernetes-models/policy/v1/PodDisruptionBudget').then(m => m.PodDisruptionBudget),
  'autoscaling/v2/HorizontalPodAutoscaler': () => import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler').then(m => m.HorizontalPodAutoscaler),
  'networking.k8s.io/v1/Ingress': () => import('kubernetes-models/networking.k8s.io/v1/Ingress').then(m => m.Ingress),
  'networking.k8s.io/v1/NetworkPolicy': () => import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy').then(m => m.NetworkPolicy),
}

/** Parses every document of a YAML stream: the `yaml` package if installed, else js-yaml. */
async function loadYamlParser() {
  try {
    const { parseAllDocuments } = await import('yaml')
    return (text) => parseAllDocuments(text, { version: '1.1', prettyErrors: true }).map(doc => {
      // YAML 1.1, as Kubernetes' own parser: `yes` is a boolean, `0440` is octal.
      if (doc.errors.length > 0) throw new Error(doc.errors.map(e => e.message).join('; '))
      return doc.toJS()
    })
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err
  }
  try {
    const jsyaml = (await import('js-yaml')).default
    return (text) => jsyaml.loadAll(text)
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err
  }
  throw new Error('neither the `yaml` nor the `js-yaml` package is installed (run npm ci)')
}

/**
 * Runs `validate` with every object of `root` wrapped in a proxy that records which
 * properties the schema validator read. The compiled validators read every property the
 * schema defines, so an own property that was never read is unknown to the schema.
 */
function findUnknownFields(root, validate) {
  const read = new WeakMap()
  const proxies = new WeakMap()
  const wrap = value => {
    if (value === null || typeof value !== 'object') return value
    let p = proxies.get(value)
    if (!p) {
      read.set(value, new Set())
      p = new Proxy(value, {
        get(target, key, receiver) {
          if (typeof key === 'string' && Object.hasOwn(target, key)) read.get(target).add(key)
          return wrap(Reflect.get(target, key, receiver))
        },
      })
      proxies.set(value, p)
    }
    return p
  }
  validate(wrap(root))
  const unknown = []
  const walk = (value, path) => {
    if (value === null || typeof value !== 'object') return
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`))
    for (const key of Object.keys(value)) {
      const p = path ? `${path}.${key}` : key
      if (!read.get(value)?.has(key)) unknown.push(p)
      else walk(value[key], p)
    }
  }
  walk(root, '')
  return unknown
}

function collectFiles(paths) {
  const out = []
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      out.push(...collectFiles(readdirSync(p).sort().map(f => join(p, f))
        .filter(f => statSync(f).isDirectory() || ['.yaml', '.yml'].includes(extname(f)))))
    } else {
      out.push(p)
    }
  }
  return out
}

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const files = collectFiles(args.length > 0 ? args : [join(here, 'k8s')])
const parse = await loadYamlParser()
const problems = []
const objects = [] // { where, obj }

if (files.length === 0) problems.push('no manifest files found')

for (const file of files) {
  const name = relative(process.cwd(), file)
  let docs
  try {
    docs = parse(readFileSync(file, 'utf8'))
  } catch (err) {
    problems.push(`${name}: YAML: ${err.message}`)
    continue
  }
  docs.forEach((obj, i) => {
    if (obj === null || obj === undefined) return // empty document (e.g. trailing ---)
    const where = docs.length > 1 ? `${name}#${i + 1}` : name
    if (typeof obj !== 'object' || Array.isArray(obj)) {
      problems.push(`${where}: not a Kubernetes object`)
      return
    }
    objects.push({ where, obj })
  })
}

for (const { where, obj } of objects) {
  const id = `${obj.apiVersion}/${obj.kind}`
  const load = Object.hasOwn(KINDS, id) ? KINDS[id] : undefined
  if (!load) {
    problems.push(`${where}: unknown apiVersion/kind ${id} (known: ${Object.keys(KINDS).join(', ')})`)
    continue
  }
  if (typeof obj.metadata?.name !== 'string' || obj.metadata.name === '') {
    problems.push(`${where}: ${obj.kind} has no metadata.name`)
    continue
  }
  const Model = await load()
  const model = new Model(obj)
  const before = problems.length
  let unknown = []
  try {
    unknown = findUnknownFields(model, m => Model.prototype.validate.call(m))
  } catch (err) {
    // The library's messages read "data/spec/replicas must be integer": drop the "data/".
    problems.push(`${where}: ${obj.kind}/${obj.metadata.name}: ${String(err.message).replace(/(^|, )data\//g, '$1')}`)
  }
  for (const f of unknown) problems.push(`${where}: ${obj.kind}/${obj.metadata.name}: unknown field ${f}`)
  if (problems.length === before) console.log(`ok   ${where}: ${id} ${obj.metadata.name}`)
}

// ---- cross-references between the objects -------------------------------------------

const byKind = kind => objects.filter(o => o.obj.kind === kind)
const find = (kind, name) => byKind(kind).find(o => o.obj.metadata?.name === name)?.obj
const labelsMatch = (selector, labels) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v)
const workloads = [...byKind('Deployment'), ...byKind('Job')]

for (const { where, obj } of workloads) {
  const pod = obj.spec?.template?.spec ?? {}
  const podLabels = obj.spec?.template?.metadata?.labels
  const ref = `${where}: ${obj.kind}/${obj.metadata?.name}`
  if (obj.kind === 'Deployment' && !labelsMatch(obj.spec?.selector?.matchLabels, podLabels)) {
    problems.push(`${ref}: spec.selector does not match the pod template labels`)
  }
  const volumes = new Set((pod.volumes ?? []).map(v => v.name))
  const secretHasKey = (name, key) => {
    const s = find('Secret', name)
    return s !== undefined && (Object.hasOwn(s.stringData ?? {}, key) || Object.hasOwn(s.data ?? {}, key))
  }
  for (const v of pod.volumes ?? []) {
    if (v.secret && !find('Secret', v.secret.secretName)) problems.push(`${ref}: volume ${v.name}: no Secret ${v.secret.secretName}`)
    for (const item of v.secret?.items ?? []) {
      if (!secretHasKey(v.secret.secretName, item.key)) problems.push(`${ref}: volume ${v.name}: Secret ${v.secret.secretName} has no key ${item.key}`)
    }
  }
  let shutdownTimeout = 10
  let preStopSleep = 0
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    for (const src of c.envFrom ?? []) {
      const cm = src.configMapRef
      if (cm && !cm.optional && !find('ConfigMap', cm.name)) problems.push(`${ref}: container ${c.name}: no ConfigMap ${cm.name}`)
      const sr = src.secretRef
      if (sr && !sr.optional && !find('Secret', sr.name)) problems.push(`${ref}: container ${c.name}: no Secret ${sr.name}`)
      const t = cm && find('ConfigMap', cm.name)?.data?.SHUTDOWN_TIMEOUT
      if (t !== undefined) shutdownTimeout = Number(t)
    }
    for (const e of c.env ?? []) {
      const sk = e.valueFrom?.secretKeyRef
      if (sk && !sk.optional && !secretHasKey(sk.name, sk.key)) problems.push(`${ref}: env ${e.name}: Secret ${sk.name} has no key ${sk.key}`)
      const ck = e.valueFrom?.configMapKeyRef
      if (ck && !ck.optional && !Object.hasOwn(find('ConfigMap', ck.name)?.data ?? {}, ck.key)) problems.push(`${ref}: env ${e.name}: ConfigMap ${ck.name} has no key ${ck.key}`)
      if (e.name === 'SHUTDOWN_TIMEOUT' && e.value !== undefined) shutdownTimeout = Number(e.value)
    }
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) problems.push(`${ref}: container ${c.name}: volumeMount ${m.name} has no volume`)
    }
    const portNames = new Set((c.ports ?? []).map(p => p.name).filter(Boolean))
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const port = c[probe]?.httpGet?.port
      if (typeof port === 'string' && !portNames.has(port)) problems.push(`${ref}: container ${c.name}: ${probe} port ${port} is not a named port`)
    }
    const cmd = c.lifecycle?.preStop?.exec?.command
    if (Array.isArray(cmd) && cmd[0] === 'sleep') preStopSleep = Math.max(preStopSleep, Number(cmd[1]) || 0)
  }
  if (obj.kind === 'Deployment') {
    const grace = pod.terminationGracePeriodSeconds ?? 30
    if (!(grace > preStopSleep + shutdownTimeout)) {
      problems.push(`${ref}: terminationGracePeriodSeconds (${grace}) must exceed preStop sleep (${preStopSleep}) + SHUTDOWN_TIMEOUT (${shutdownTimeout})`)
    }
  }
}

const podLabelSets = byKind('Deployment').map(o => o.obj.spec?.template?.metadata?.labels)
for (const { where, obj } of [...byKind('Service'), ...byKind('PodDisruptionBudget')]) {
  const selector = obj.kind === 'Service' ? obj.spec?.selector : obj.spec?.selector?.matchLabels
  if (!podLabelSets.some(labels => labelsMatch(selector, labels))) {
    problems.push(`${where}: ${obj.kind}/${obj.metadata?.name}: selector matches no Deployment's pods`)
  }
}
for (const { where, obj } of byKind('HorizontalPodAutoscaler')) {
  const t = obj.spec?.scaleTargetRef
  if (!find(t?.kind, t?.name)) problems.push(`${where}: HorizontalPodAutoscaler/${obj.metadata?.name}: no ${t?.kind} ${t?.name}`)
}

for (const p of problems) console.error(`FAIL ${p}`)
console.log(`${objects.length} manifest(s) in ${files.length} file(s): ${problems.length === 0 ? 'valid' : `${problems.length} problem(s)`}`)
process.exit(problems.length === 0 ? 0 : 1)

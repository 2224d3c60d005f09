import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

/** Where a frame's code lives: a package, Sigil's own code, Node's internals, or V8's pseudo-frames. */
function origin(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (pkg) return pkg
  if (url.startsWith('node:')) return 'node internals'
  if (/\/dist\/|\/src\//.test(url)) return 'sigil'
  return url
}

/**
 * The self time of a V8 `.cpuprofile` (node --cpu-prof), as lines of text: the share of each
 * origin (package, Sigil, Node internals, GC, idle), then the `top` functions by self time.
 */
export function summarizeProfile(file: string, top = 15): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map(n => [n.id, n]))
  const selfUs = new Map<number, number>()
  p.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)))
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const busy = total - [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0)
  const fns = new Map<string, number>()
  const origins = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame
    if (functionName === '(idle)') continue
    const where = origin(url, functionName)
    const file = url.replace(/^.*node_modules\//, '').replace(/^.*\/(dist|src)\//, '$1/').replace(/^file:\/\//, '')
    const key = `${functionName || '(anonymous)'}  ${file ? `${file}:${lineNumber + 1}` : ''}`.trim()
    fns.set(key, (fns.get(key) ?? 0) + us)
    origins.set(where, (origins.get(where) ?? 0) + us)
  }
  const pct = (us: number) => `${(100 * us / busy).toFixed(1).padStart(5)}%`
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1])
  return [
    `CPU profile ${file}: ${(busy / 1e6).toFixed(1)} s busy of ${(total / 1e6).toFixed(1)} s; self time by origin (share of busy time):`,
    ...sorted(origins).slice(0, 12).map(([o, us]) => `  ${pct(us)}  ${o}`),
    `top ${top} functions by self time:`,
    ...sorted(fns).slice(0, top).map(([f, us]) => `  ${pct(us)}  ${f}`),
  ]
}

// Prints the top self-time entries of a V8 CPU profile (`node --cpu-prof`), grouped by
// function and file: `node bench/cpu-profile-top.ts <file.cpuprofile> [count]`.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const [file, count = '20'] = process.argv.slice(2)
if (!file) throw new Error('usage: cpu-profile-top.ts <file.cpuprofile> [count]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const nameOf = new Map<number, string>()
for (const { id, callFrame } of profile.nodes) {
  const where = callFrame.url ? ` ${basename(callFrame.url)}:${callFrame.lineNumber + 1}` : ''
  nameOf.set(id, `${callFrame.functionName || '(anonymous)'}${where}`)
}
const selfTime = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0
  total += delta
  const name = nameOf.get(id)!
  selfTime.set(name, (selfTime.get(name) ?? 0) + delta)
})
const top = [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, Number(count))
console.log(`| self % | self ms | function |\n|---:|---:|---|`)
for (const [name, micros] of top) {
  console.log(`| ${((micros / total) * 100).toFixed(1)} | ${Math.round(micros / 1000)} | \`${name}\` |`)
}
console.log(`\ntotal ${Math.round(total / 1000)} ms`)

// placeholder, replaced by the harness runner
import { spawnSync } from 'node:child_process'

const result = spawnSync(process.execPath, ['--test', 'test/**/*.test.ts'], { stdio: 'inherit' })
process.exit(result.status ?? 1)

// The repository's code imports 'sluice' as an application does (the examples, and what
// uses them); package.json's "sluice-source" export condition resolves that to src/, so
// nothing needs a build. NODE_OPTIONS carries the condition into every process a script
// starts, however it starts them.

/** `NODE_OPTIONS` with `--conditions=sluice-source` added. */
export function nodeOptionsWithSources(nodeOptions = process.env.NODE_OPTIONS): string {
  return [nodeOptions, '--conditions=sluice-source'].filter(Boolean).join(' ')
}

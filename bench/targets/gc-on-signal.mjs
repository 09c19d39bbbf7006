// Preloaded into every benchmark target (with --expose-gc): SIGUSR2 runs a
// full garbage collection, so the runner reads RSS after the same clean-up
// for every target instead of whenever V8 happened to collect.
process.on('SIGUSR2', () => { globalThis.gc?.() })

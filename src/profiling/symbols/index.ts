/**
 * The symbolizer for on-CPU profiling: stack addresses (kernel and user) to function names,
 * honest about the ones it cannot name. Only `Symbolizer`, `hintFor` and the types are the
 * contract; the readers behind them are internal.
 */
export { Symbolizer } from './symbolizer.js';
export { KernelSymbols } from './kallsyms.js';
export { hintFor, NODE_HINT, LUAJIT_HINT } from './hints.js';
export { UNRESOLVED_REASONS } from './types.js';
export type { Frame, SymbolizerOptions, SymbolizerStats, UnresolvedReason } from './types.js';

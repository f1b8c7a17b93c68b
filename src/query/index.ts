/** Queries over the event store (docs/query.md): parameters, the `where` filter, and running them. */
export { parseQuery, PARAMS, DEFAULT_LIMIT, MAX_LIMIT, type QuerySpec, type QueryParams } from './params.js';
export { runQuery, type QueryAnswer, type AnswerRow, type AnswerGroup, type RunOptions } from './run.js';
export { compileWhere, eventOf, rowGetter, scanHints, NO_DEFINITIONS, type Where } from './where.js';
export { parseTime, parseDuration } from './time.js';

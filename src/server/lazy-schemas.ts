/**
 * The API's route schemas compiled at each route's first request, not at start: Fastify's own
 * compilers (ajv for requests, fast-json-stringify for answers) compile every route at ready(),
 * ~100 ms of the server's start on this machine's main thread, for routes most agents never
 * serve. The compilers are Fastify's defaults, unchanged; only the moment differs. Every
 * schema is still compiled once by GET /openapi.json (src/server/openapi.ts), whose test fails
 * on one that does not compile.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

/** ajv's options for the API's schemas (Fastify's `ajv` option). */
export const API_AJV = { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, allowUnionTypes: true } };

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

/** `build()` once, at the first call of what it builds. */
function onFirstCall<A extends unknown[], R>(build: () => (...a: A) => R): (...a: A) => R {
  let fn: ((...a: A) => R) | undefined;
  return (...a) => (fn ??= build())(...a);
}

/** Fastify's `schemaController.compilersFactory`, each compile deferred to its first use. */
export function lazyCompilers(): Compilers {
  const validators = AjvCompiler();
  const serializers = SerializerSelector();
  return {
    buildValidator: (externalSchemas, ajvOptions) => {
      const compiler = onFirstCall(() => validators(externalSchemas, ajvOptions));
      return (route) => {
        let validate: Validate | undefined;
        // Fastify reads a failed check's errors from the function it was given.
        const check: Validate = (data) => {
          validate ??= compiler(route) as Validate;
          const ok = validate(data);
          check.errors = validate.errors;
          return ok;
        };
        return check;
      };
    },
    buildSerializer: (externalSchemas, options) => {
      const compiler = onFirstCall(() => serializers(externalSchemas, options));
      return (route) => onFirstCall(() => compiler(route) as (data: unknown) => string);
    },
  } as Compilers;
}

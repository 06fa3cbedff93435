/**
 * json-validate: the content must be JSON matching an inline JSON Schema (draft 2020-12), compiled once
 * with ajv when the bundle is built. Publish: a failure is a 400 GatewayError MESSAGE_INVALID naming the
 * first error's path and message (WebSocket: close 1008 / error frame, as the entrypoint decides);
 * subscribe: the message is dropped and counted.
 */
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { createAjv } from '../ajv.ts';
import type { JsonValidatePolicy } from '../../schemas/types.ts';
import { errors } from '../errors.ts';
import { regexProblem } from '../regex.ts';
import { schemaPatterns } from './schema-patterns.ts';
import { contentJson, NOT_JSON } from './content.ts';
import { PolicyConfigError, type PolicyModule, type PolicyProblem } from './policy.ts';

let shared: Ajv2020 | undefined;

/** One ajv for user schemas: the `user-schemas` profile of core/ajv.ts (strict, first error only, RE2 patterns). */
function ajv(): Ajv2020 {
  shared ??= createAjv('user-schemas');
  return shared;
}

/**
 * Compiles a user schema. The schema is removed from ajv's cache right away (the validator keeps
 * working), so schemas with the same `$id` in different steps or deploys never collide or accumulate.
 */
export function compileUserSchema(schema: unknown): ValidateFunction {
  const instance = ajv();
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Error('the schema must be a JSON object');
  try {
    return instance.compile(schema);
  } finally {
    try {
      instance.removeSchema(schema as object);
    } catch {
      // nothing cached for a schema that failed early
    }
  }
}

function check(config: JsonValidatePolicy): PolicyProblem[] {
  const unsafe: PolicyProblem[] = [];
  for (const { pointer, pattern, part } of schemaPatterns(config.schema)) {
    const problem = regexProblem(pattern, 'u');
    if (problem?.code === 'UNSAFE_REGEX') unsafe.push({ path: `/schema${pointer}`, code: 'UNSAFE_REGEX', message: `pattern ${JSON.stringify(pattern)}: ${problem.message}`, ...(part ? { part } : {}) });
  }
  if (unsafe.length) return unsafe;
  try {
    compileUserSchema(config.schema);
    return [];
  } catch (error) {
    return [{ path: '/schema', code: 'POLICY_INVALID_SCHEMA', message: `invalid JSON Schema: ${(error as Error).message}` }];
  }
}

export const jsonValidate: PolicyModule<JsonValidatePolicy> = {
  check,
  build(config, { direction, count }) {
    let validate: ValidateFunction;
    try {
      validate = compileUserSchema(config.schema);
    } catch {
      throw new PolicyConfigError(check(config));
    }
    const fail = direction === 'publish'
      ? (reason: string): never => {
        count('refused');
        throw errors.badRequest('MESSAGE_INVALID', reason);
      }
      : (): null => {
        count('dropped');
        return null;
      };
    return (message) => {
      const value = contentJson(message);
      if (value === NOT_JSON) return fail('The message content is not valid JSON.');
      if (validate(value)) return message;
      const first = validate.errors?.[0];
      const where = first?.instancePath ? first.instancePath : '/';
      return fail(`The message does not match the schema: ${where} ${first?.message ?? 'is invalid'}.`);
    };
  },
};

/**
 * max-size: content larger than `maxBytes` is refused. Publish: a 413 GatewayError (WebSocket close 1009);
 * subscribe: the message is dropped and counted.
 */
import type { MaxSizePolicy } from '../../schemas/types.ts';
import { errors } from '../errors.ts';
import type { PolicyModule, PolicyProblem } from './policy.ts';
import { PolicyConfigError } from './policy.ts';

function check(config: MaxSizePolicy): PolicyProblem[] {
  return Number.isSafeInteger(config.maxBytes) && config.maxBytes >= 1
    ? []
    : [{ path: '/maxBytes', code: 'POLICY_INVALID_SIZE', message: 'maxBytes must be a positive integer' }];
}

export const maxSize: PolicyModule<MaxSizePolicy> = {
  check,
  build(config, { direction, count }) {
    const problems = check(config);
    if (problems.length > 0) throw new PolicyConfigError(problems);
    const { maxBytes } = config;
    if (direction === 'publish') {
      return (message) => {
        if (message.content.length <= maxBytes) return message;
        count('refused');
        throw errors.payloadTooLarge(maxBytes);
      };
    }
    return (message) => {
      if (message.content.length <= maxBytes) return message;
      count('dropped');
      return null;
    };
  },
};

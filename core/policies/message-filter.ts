/**
 * message-filter: keeps only the messages for which `condition` is true; the others are dropped and
 * counted. A condition that cannot be evaluated (e.g. `$` on content that is not JSON) is false.
 * On publish a dropped message is accepted from the client and not forwarded (the exchange decides the reply).
 */
import type { MessageFilterPolicy } from '../../schemas/types.ts';
import { compileCondition } from './expression.ts';
import type { PolicyModule } from './policy.ts';

export const messageFilter: PolicyModule<MessageFilterPolicy> = {
  ownsCondition: true,
  check: () => [], // the condition is checked like every step's condition
  build(config, context) {
    const keep = compileCondition(config.condition, { onError: () => context.count('condition-error') });
    return (message) => {
      if (keep(message)) return message;
      context.count('dropped');
      return null;
    };
  },
};

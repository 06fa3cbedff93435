import { createMock } from '../../runtime/endpoints/mock/mock.ts';
import { endpointContract } from './endpoint-suite.ts';

endpointContract({
  name: 'mock',
  async create() {
    const endpoint = createMock({ type: 'mock', messageInterval: 20 });
    return {
      endpoint,
      readPublished: async () => {
        let read = 0;
        return {
          async next() {
            const records = endpoint.recorded();
            if (records.length <= read) throw new Error('the mock recorded nothing more');
            const record = records[read++]!;
            return { content: record.content, headers: record.headers };
          },
          close: async () => {},
        };
      },
      dispose: async () => {},
    };
  },
});

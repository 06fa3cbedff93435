import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { wireFrame } from '../../runtime/entrypoints/websocket.ts';

/** ws's own framing (lib/sender.js, public static Sender.frame): what ws.send would write. */
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: { frame(data: Buffer, options: object): Buffer[] } };

describe('websocket wireFrame', () => {
  it('writes the same bytes as ws.send for every length class, text and binary', () => {
    for (const length of [0, 1, 125, 126, 256, 65_535, 65_536, 70_000]) {
      const data = Buffer.alloc(length, 0x61);
      for (const binary of [false, true]) {
        const expected = Buffer.concat(Sender.frame(data, { fin: true, opcode: binary ? 2 : 1, mask: false, readOnly: true, rsv1: false }));
        expect(wireFrame(data, binary).equals(expected), `length ${length} binary ${binary}`).toBe(true);
      }
    }
  });
});

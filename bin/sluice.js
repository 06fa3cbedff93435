#!/usr/bin/env node
// The `sluice` command. Sources are TypeScript, loaded through tsx so `npx sluice` works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

/** The record key template lives with the other endpoints' message templates. */
export { compileRecordKey } from '../message-template.ts';

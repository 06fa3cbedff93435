/** The error of an expression outside the condition language (expression.ts). */
export type ExpressionErrorCode = 'POLICY_INVALID_CONDITION' | 'POLICY_UNSAFE_ACCESS' | 'UNSAFE_REGEX';

/** A refused expression: `column` is 1-based within the expression text. */
export class ExpressionError extends Error {
  constructor(
    readonly code: ExpressionErrorCode,
    readonly detail: string,
    readonly column: number,
  ) {
    super(`${detail} (column ${column})`);
    this.name = 'ExpressionError';
  }
}

/** asl-validator 4 ships no types: the part feedpath uses. */
declare module 'asl-validator' {
  interface AslValidatorOptions {
    /** Validate JSONPath expressions (default true). */
    checkPaths?: boolean;
    /** Validate Task Resource ARNs (default true). */
    checkArn?: boolean;
  }
  interface AslValidatorError {
    message: string;
    path?: string;
    [key: string]: unknown;
  }
  interface AslValidatorResult {
    isValid: boolean;
    errors: AslValidatorError[];
    errorsText: (separator?: string) => string;
  }
  /** Validates a state machine definition (it annotates the object it is given: pass a copy). */
  function aslValidator(definition: unknown, options?: AslValidatorOptions): AslValidatorResult;
  export = aslValidator;
}

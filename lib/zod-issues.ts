/** Zod's validation issues as one line of text, for the error a reader of a bad file or input throws. */
import type { z } from 'zod';

/** Formats zod issues as `field: problem; …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

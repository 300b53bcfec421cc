/**
 * Deepest nesting of arrays/structures we decode or encode. Real COSEM data nests 3-4 levels (object list,
 * profile buffers); the limit keeps hostile input from exhausting the stack.
 */
export const MAX_DEPTH = 16;

// A dependency of esm.mjs (see there).
export const value = 'warm';

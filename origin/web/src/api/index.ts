// The API: a typed client and the shapes it speaks (generated from origin's OpenAPI).
export * from './client';
export type * from './types';

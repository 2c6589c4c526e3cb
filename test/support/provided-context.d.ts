// What the global setup (redis-global.ts) provides to every test through `inject`.
declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
export {};

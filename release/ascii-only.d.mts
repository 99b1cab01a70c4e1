// Types of ascii-only.mjs, which build.mjs (plain Node, no TypeScript) imports.
export function asciiOnly(text: string): string;

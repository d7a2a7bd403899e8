// Part of `npm run build`: tsc copies only what it compiles, so the Lua scripts loaded by
// src/redis/scripts.ts are copied beside the built module (dist/redis/lua/).
import { cpSync, mkdirSync } from 'node:fs';

mkdirSync('dist/redis/lua', { recursive: true });
cpSync('src/redis/lua', 'dist/redis/lua', { recursive: true, filter: (f) => !f.includes('.') || f.endsWith('.lua') });

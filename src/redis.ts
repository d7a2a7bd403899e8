// Moved to src/redis/ (issue 8). This re-export keeps `./redis.js` imports compiling until wave 2
// changes them to `./redis/index.js`; then delete this file.
export * from './redis/index.js';

// Child process for the crash test: opens the embedded database in argv[2], commits one row,
// says so, and waits to be killed.
import { migrate, openDatabase } from '../../src/db/index.js';

const db = await openDatabase({ dataDir: process.argv[2] });
await migrate(db.pool);
await db.pool.query(`INSERT INTO stream_sessions (stream_key, screen_id, started_at) VALUES ('crash', 'x', now())`);
process.stdout.write('committed\n');
setInterval(() => undefined, 1000);

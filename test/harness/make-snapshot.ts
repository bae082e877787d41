import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrations.js';

/** Migrates a fresh PGlite and writes its data directory as a tarball to argv[2]. */
const file = process.argv[2];
if (!file) throw new Error('usage: make-snapshot <file>');
const client = await PGlite.create();
const database = await openDatabase({ pglite: client });
await migrateToLatest(database.db);
const dump = await client.dumpDataDir('none');
writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
await database.close();

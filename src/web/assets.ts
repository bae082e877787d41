import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';

/** `public/` at the project root, found from here in both `src/` and `dist/src/`. */
export function publicDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('project root not found');
    dir = parent;
  }
  return path.join(dir, 'public');
}

/** Static CSS and scripts for the pages (CSP: scripts only from 'self', no inline code). */
export function mountAssets(app: Express): void {
  app.use('/assets', express.static(publicDir(), { maxAge: '1h', index: false, fallthrough: true }));
}

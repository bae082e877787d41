import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import yazl from 'yazl';
import type { DB } from '../db/schema.js';
import { escapeHtml } from '../web/html.js';
import type { DataCategory, DataSubject, PrivacyRegistry, PrivacyProvider } from './registry.js';

/** Bumped when the layout of data.json changes incompatibly (DSR-02). */
export const EXPORT_SCHEMA_VERSION = 1;
/** Plaintext bytes per sealed chunk. */
const CHUNK_BYTES = 1024 * 1024;
/** Rows per category shown in index.html; everything is in data.json and the CSV. */
const HTML_ROWS = 200;

export interface ArchiveMeta {
  requestId: string;
  tenantName: string;
  generatedAt: Date;
}

interface CategoryStats {
  described: DataCategory | null;
  provider: string;
  count: number;
  columns: Set<string>;
  sample: Record<string, unknown>[];
}

export interface ArchiveSummary {
  bytes: number;
  chunks: number;
  /** Rows per category, every described category listed (also with 0). */
  counts: Record<string, number>;
}

/**
 * Builds the export archive (DSR-01, DSR-02) from every registered provider and
 * hands it on in sealed chunks while it is built. Providers' exports are async
 * iterables consumed row by row, so memory stays flat however long the
 * activity log is: data.json is written while it is read; each CSV is a second
 * pass over its category; index.html shows the first rows and the counts.
 */
export async function buildArchive(
  db: Kysely<DB>,
  registry: PrivacyRegistry,
  subject: DataSubject,
  meta: ArchiveMeta,
  writeChunk: (seq: number, sealed: Buffer) => Promise<void>,
  key: Buffer,
): Promise<ArchiveSummary> {
  const stats = new Map<string, CategoryStats>();
  for (const provider of registry.all()) {
    for (const category of provider.describe()) stats.set(category.category, { described: category, provider: provider.name, count: 0, columns: new Set(), sample: [] });
  }

  const zip = new yazl.ZipFile();
  let failure: unknown = null;
  const fail = (error: unknown) => {
    failure ??= error;
    (zip.outputStream as Readable).destroy(error instanceof Error ? error : new Error(String(error)));
  };

  const writer = sealChunks(zip.outputStream, meta.requestId, key, writeChunk);
  const mtime = meta.generatedAt;

  const json = Readable.from(dataJson(db, registry, subject, meta, stats), { objectMode: false });
  json.on('error', fail);
  const jsonDone = new Promise<void>((resolve) => json.on('end', resolve));
  zip.addReadStream(json, 'data.json', { mtime });

  try {
    await Promise.race([jsonDone, writer.then(() => undefined)]);
    if (failure) throw failure;
    for (const [category, s] of stats) {
      if (s.count === 0) continue;
      const csv = Readable.from(csvRows(db, registry, subject, category, s), { objectMode: false });
      csv.on('error', fail);
      zip.addReadStream(csv, `csv/${category}.csv`, { mtime });
    }
    zip.addBuffer(Buffer.from(indexHtml(meta, stats), 'utf8'), 'index.html', { mtime });
    zip.end();
    const written = await writer;
    if (failure) throw failure;
    return { ...written, counts: Object.fromEntries([...stats].map(([c, s]) => [c, s.count])) };
  } catch (error) {
    fail(error);
    await writer.catch(() => undefined);
    throw error;
  }
}

/** Reads the archive's chunks back in order, opened and checked (order, completeness, integrity). */
export async function* openArchive(db: Kysely<DB>, requestId: string, key: Buffer): AsyncGenerator<Buffer> {
  const last = await db.selectFrom('privacy_export_chunks').select((eb) => eb.fn.max('seq').as('seq')).where('request_id', '=', requestId).executeTakeFirst();
  if (last?.seq === null || last?.seq === undefined) throw new Error('archive missing');
  for (let seq = 0; seq <= Number(last.seq); seq++) {
    const row = await db.selectFrom('privacy_export_chunks').select('data').where('request_id', '=', requestId).where('seq', '=', seq).executeTakeFirst();
    if (!row) throw new Error('archive chunk missing');
    yield openChunk(row.data, chunkAad(requestId, seq, seq === Number(last.seq)), key);
  }
}

function chunkAad(requestId: string, seq: number, last: boolean): Buffer {
  return Buffer.from(`privacy-export:${requestId}:${seq}:${last ? 'last' : 'more'}`);
}

/** iv (12) ‖ ciphertext ‖ tag (16); the associated data binds request, position and "last", so chunks can't be swapped or cut off. */
function sealChunk(plain: Buffer, aad: Buffer, key: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

function openChunk(sealed: Buffer, aad: Buffer, key: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** Collects the zip stream into chunks of CHUNK_BYTES, holding one back so the last can be marked. */
async function sealChunks(
  stream: NodeJS.ReadableStream,
  requestId: string,
  key: Buffer,
  writeChunk: (seq: number, sealed: Buffer) => Promise<void>,
): Promise<{ bytes: number; chunks: number }> {
  let parts: Buffer[] = [];
  let size = 0;
  let bytes = 0;
  let seq = 0;
  let held: Buffer | null = null;
  const flushHeld = async (last: boolean) => {
    if (!held) return;
    await writeChunk(seq, sealChunk(held, chunkAad(requestId, seq, last), key));
    seq++;
    held = null;
  };
  for await (const data of stream as AsyncIterable<Buffer>) {
    parts.push(data);
    size += data.length;
    bytes += data.length;
    while (size >= CHUNK_BYTES) {
      const all = Buffer.concat(parts);
      await flushHeld(false);
      held = all.subarray(0, CHUNK_BYTES);
      parts = [all.subarray(CHUNK_BYTES)];
      size = all.length - CHUNK_BYTES;
    }
  }
  if (size > 0) {
    await flushHeld(false);
    held = Buffer.concat(parts);
  }
  await flushHeld(true);
  return { bytes, chunks: seq };
}

/** A provider's rows of one category; providers that yield several categories are read once per category. */
async function* rowsOf(db: Kysely<DB>, provider: PrivacyProvider, subject: DataSubject, category: string, single: boolean) {
  for await (const item of provider.export(db, subject)) {
    if (single || item.category === category) yield item;
  }
}

async function* dataJson(db: Kysely<DB>, registry: PrivacyRegistry, subject: DataSubject, meta: ArchiveMeta, stats: Map<string, CategoryStats>): AsyncGenerator<Buffer> {
  const head = {
    schemaVersion: EXPORT_SCHEMA_VERSION,
    generatedAt: meta.generatedAt.toISOString(),
    controller: meta.tenantName,
    requestId: meta.requestId,
    subject: { userId: subject.userId },
    ruleIds: ['DSR-01', 'DSR-02'],
  };
  const headText = JSON.stringify(head, null, 1);
  yield Buffer.from(`${headText.slice(0, -2)},\n "categories": {`);
  let firstCategory = true;
  const undescribed = new Set<string>();
  for (const provider of registry.all()) {
    const categories = provider.describe().map((c) => c.category);
    for (const category of categories) {
      const s = stats.get(category)!;
      const d = s.described!;
      const info = { provider: provider.name, table: d.table, fields: d.fields, purpose: d.purpose, retentionRule: d.retentionRule, legalBasis: d.legalBasis ?? null };
      yield Buffer.from(`${firstCategory ? '' : ','}\n  ${JSON.stringify(category)}: ${JSON.stringify(info).slice(0, -1)},"rows": [`);
      firstCategory = false;
      let batch: string[] = [];
      for await (const item of rowsOf(db, provider, subject, category, categories.length === 1)) {
        if (item.category !== category) {
          if (!stats.has(item.category)) undescribed.add(item.category);
          continue;
        }
        batch.push(`${s.count === 0 ? '\n' : ',\n'}   ${JSON.stringify(item.row)}`);
        record(s, item.row);
        if (batch.length >= 500) {
          yield Buffer.from(batch.join(''));
          batch = [];
        }
      }
      batch.push(`],"count": ${s.count}}`);
      yield Buffer.from(batch.join(''));
    }
    // Rows a provider yields under a category it does not describe are exported too (nothing is forgotten), flagged.
    for (const category of [...undescribed]) {
      if (stats.has(category)) continue;
      const s: CategoryStats = { described: null, provider: provider.name, count: 0, columns: new Set(), sample: [] };
      stats.set(category, s);
      yield Buffer.from(`${firstCategory ? '' : ','}\n  ${JSON.stringify(category)}: {"provider": ${JSON.stringify(provider.name)}, "undescribed": true, "rows": [`);
      firstCategory = false;
      for await (const item of provider.export(db, subject)) {
        if (item.category !== category) continue;
        yield Buffer.from(`${s.count === 0 ? '\n' : ',\n'}   ${JSON.stringify(item.row)}`);
        record(s, item.row);
      }
      yield Buffer.from(`],"count": ${s.count}}`);
    }
    undescribed.clear();
  }
  yield Buffer.from('\n }\n}\n');
}

function record(s: CategoryStats, row: Record<string, unknown>): void {
  s.count++;
  for (const key of Object.keys(row)) s.columns.add(key);
  if (s.sample.length < HTML_ROWS) s.sample.push(row);
}

const BOM = '\ufeff';

/** Semicolon-separated (German spreadsheets), UTF-8 with BOM; cells that a spreadsheet would run as a formula are defused. */
async function* csvRows(db: Kysely<DB>, registry: PrivacyRegistry, subject: DataSubject, category: string, s: CategoryStats): AsyncGenerator<Buffer> {
  const provider = registry.all().find((p) => p.name === s.provider)!;
  const columns = [...s.columns];
  yield Buffer.from(BOM + columns.map(csvCell).join(';') + '\r\n');
  let batch: string[] = [];
  const single = provider.describe().length === 1 && s.described !== null;
  for await (const item of rowsOf(db, provider, subject, category, single)) {
    if (item.category !== category) continue;
    batch.push(columns.map((c) => csvCell(item.row[c])).join(';') + '\r\n');
    if (batch.length >= 1000) {
      yield Buffer.from(batch.join(''));
      batch = [];
    }
  }
  if (batch.length) yield Buffer.from(batch.join(''));
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvCell(value: unknown): string {
  let text = cellText(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[";\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const DATE_DE = new Intl.DateTimeFormat('de-DE', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Berlin' });

/** The human-readable view (German): self-contained, no scripts, no external resources. */
function indexHtml(meta: ArchiveMeta, stats: Map<string, CategoryStats>): string {
  const e = escapeHtml;
  const sections = [...stats].map(([category, s]) => {
    const d = s.described;
    const columns = [...s.columns];
    const table = s.count
      ? `<table><thead><tr>${columns.map((c) => `<th scope="col">${e(c)}</th>`).join('')}</tr></thead><tbody>${s.sample
          .map((row) => `<tr>${columns.map((c) => `<td>${e(cellText(row[c]))}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`
      : '<p>Zu dieser Kategorie sind keine Daten über Sie gespeichert.</p>';
    const more = s.count > s.sample.length ? `<p class="note">Hier sind die ersten ${s.sample.length} von ${s.count} Einträgen zu sehen. Alle Einträge stehen in <code>data.json</code> und <code>csv/${e(category)}.csv</code>.</p>` : '';
    return `<section id="${e(category)}">
<h2>${e(d?.purpose.de ?? category)}</h2>
<dl>
<dt>Kategorie</dt><dd><code>${e(category)}</code> (Modul ${e(s.provider)})</dd>
<dt>Zweck</dt><dd>${e(d?.purpose.de ?? 'nicht beschrieben')}</dd>
<dt>Speicherdauer</dt><dd>nach Regel <code>${e(d?.retentionRule ?? '–')}</code> des Regelkatalogs</dd>
${d?.legalBasis ? `<dt>Rechtsgrundlage</dt><dd>${e(d.legalBasis)}</dd>` : ''}
<dt>Anzahl Einträge</dt><dd>${s.count}</dd>
</dl>
${table}
${more}
</section>`;
  });
  const toc = [...stats].map(([category, s]) => `<li><a href="#${e(category)}">${e(s.described?.purpose.de ?? category)}</a> – ${s.count}</li>`).join('');
  return `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ihre Daten in der Schulbrücke</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;color:#1b1f23;max-width:70rem;margin:0 auto;padding:1rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.25rem .4rem;text-align:left;vertical-align:top}
dt{font-weight:600}dd{margin:0 0 .4rem 0}.note{color:#57606a}section{margin-top:2rem}
</style>
</head>
<body>
<header>
<h1>Ihre Daten in der Schulbrücke</h1>
<p>Auskunft nach Art. 15 und Art. 20 DSGVO (DSR-01, DSR-02). Verantwortlich: ${e(meta.tenantName)}. Erstellt am ${e(DATE_DE.format(meta.generatedAt))}. Antrag <code>${e(meta.requestId)}</code>.</p>
<p>Dieses Archiv enthält alles, was die Schulbrücke über Sie gespeichert hat: <code>data.json</code> (maschinenlesbar, Schema-Version ${EXPORT_SCHEMA_VERSION}), diese Seite und je Kategorie eine CSV-Datei im Ordner <code>csv</code>. Die Seite funktioniert ohne Internetverbindung.</p>
</header>
<nav aria-label="Kategorien"><h2>Kategorien</h2><ul>${toc}</ul></nav>
<main>
${sections.join('\n')}
</main>
</body>
</html>
`;
}

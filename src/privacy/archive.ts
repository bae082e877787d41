import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import yazl from 'yazl';
import type { DB } from '../db/schema.js';
import { escapeHtml } from '../web/html.js';
import type { DataCategory, DataSubject, PrivacyRegistry } from './registry.js';

/** Bumped when the layout of data.json changes incompatibly (DSR-02). */
export const EXPORT_SCHEMA_VERSION = 1;
/** Plaintext bytes per sealed chunk. */
const CHUNK_BYTES = 1024 * 1024;
/** Rows per category shown in index.html; everything is in data.json and the CSV. */
const HTML_ROWS = 200;

export interface ArchiveMeta {
  requestId: string;
  userId: string;
  tenantName: string;
  generatedAt: Date;
}

interface CategoryStats {
  described: DataCategory | null;
  provider: string;
  count: number;
  columns: Map<string, number>;
  /** The column names in the order they appeared. */
  order: string[];
  sample: Record<string, unknown>[];
  json: Spool | null;
  csv: Spool | null;
}

export interface ArchiveSummary {
  bytes: number;
  chunks: number;
  /** Rows per category, every described category listed (also with 0). */
  counts: Record<string, number>;
}

/**
 * Builds the export archive (DSR-01, DSR-02) from every registered provider and
 * hands it on in sealed chunks while it is built. Each provider's export is read
 * once, row by row; rows go to per-category spool files (sealed with a key that
 * exists only in this process for these seconds), so memory stays flat however
 * long the activity log is. The archive is then assembled from the spools:
 * data.json grouped by category, a CSV per category, index.html.
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
  const fresh = (described: DataCategory | null, provider: string): CategoryStats => ({ described, provider, count: 0, columns: new Map(), order: [], sample: [], json: null, csv: null });
  for (const provider of registry.all()) {
    for (const category of provider.describe()) stats.set(category.category, fresh(category, provider.name));
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'schulbruecke-export-'));
  try {
    for (const provider of registry.all()) {
      for await (const item of provider.export(db, subject)) {
        // Rows under a category the provider did not describe are exported too (nothing is forgotten), flagged.
        let s = stats.get(item.category);
        if (!s) stats.set(item.category, (s = fresh(null, provider.name)));
        await spoolRow(dir, s, item.row);
      }
    }
    for (const s of stats.values()) {
      await s.json?.close();
      await s.csv?.close();
    }

    const zip = new yazl.ZipFile();
    const out = zip.outputStream as Readable;
    const writer = sealChunks(out, meta.requestId, key, writeChunk);
    const fail = (error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error)));
    // Level 1: a third of the CPU of the default for archives a few percent larger (text compresses well either way).
    const entry = { mtime: meta.generatedAt, compress: true, compressionLevel: 1 };
    const json = Readable.from(dataJson(meta, stats), { objectMode: false });
    json.on('error', fail);
    zip.addReadStream(json, 'data.json', entry);
    for (const [category, s] of stats) {
      if (!s.csv) continue;
      const csv = Readable.from(csvFile(s), { objectMode: false });
      csv.on('error', fail);
      zip.addReadStream(csv, `csv/${category}.csv`, entry);
    }
    zip.addBuffer(Buffer.from(indexHtml(meta, stats), 'utf8'), 'index.html', entry);
    zip.end();
    const written = await writer;
    return { ...written, counts: Object.fromEntries([...stats].map(([c, s]) => [c, s.count])) };
  } finally {
    for (const s of stats.values()) {
      s.json?.abandon();
      s.csv?.abandon();
    }
    await rm(dir, { recursive: true, force: true });
  }
}

async function spoolRow(dir: string, s: CategoryStats, row: Record<string, unknown>): Promise<void> {
  s.json ??= new Spool(path.join(dir, `${randomBytes(8).toString('hex')}.json`));
  s.csv ??= new Spool(path.join(dir, `${randomBytes(8).toString('hex')}.csv`));
  for (const key in row) {
    if (!s.columns.has(key)) {
      s.columns.set(key, s.columns.size);
      s.order.push(key);
    }
  }
  // Columns are only ever appended, so each line's cells are a prefix of the final header.
  const order = s.order;
  let line = csvCell(row[order[0]!]);
  for (let i = 1; i < order.length; i++) line += ';' + csvCell(row[order[i]!]);
  const jsonFull = s.json.add(`${s.count === 0 ? '\n' : ',\n'}   ${JSON.stringify(row)}`);
  const csvFull = s.csv.add(line + '\r\n');
  s.count++;
  if (s.sample.length < HTML_ROWS) s.sample.push(row);
  // Awaited only when a spool's buffer is full: no promise per row.
  if (jsonFull) await s.json.flush();
  if (csvFull) await s.csv.flush();
}

/**
 * An append-only temporary file, sealed with AES-256-GCM under a random key held
 * only in memory: personal data never lies in clear on disk, not even for seconds.
 */
class Spool {
  private readonly key = randomBytes(32);
  private readonly iv = randomBytes(12);
  private readonly cipher;
  private readonly file: WriteStream;
  private pending: string[] = [];
  private pendingBytes = 0;
  private tag: Buffer | null = null;

  constructor(private readonly file_path: string) {
    this.cipher = createCipheriv('aes-256-gcm', this.key, this.iv);
    this.file = createWriteStream(file_path, { mode: 0o600 });
  }

  /** Buffers text; true when the buffer is full and `flush()` is due. */
  add(text: string): boolean {
    this.pending.push(text);
    this.pendingBytes += text.length;
    return this.pendingBytes >= 256 * 1024;
  }

  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const data = this.cipher.update(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.file.write(data)) await once(this.file, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    const tail = this.cipher.final();
    this.tag = this.cipher.getAuthTag();
    this.file.end(tail);
    await once(this.file, 'finish');
  }

  abandon(): void {
    if (!this.file.closed) this.file.destroy();
  }

  async *read(): AsyncGenerator<Buffer> {
    if (!this.tag) throw new Error('spool not closed');
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.iv);
    decipher.setAuthTag(this.tag);
    for await (const chunk of createReadStream(this.file_path, { highWaterMark: 256 * 1024 })) yield decipher.update(chunk as Buffer);
    yield decipher.final();
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

async function* dataJson(meta: ArchiveMeta, stats: Map<string, CategoryStats>): AsyncGenerator<Buffer> {
  const head = {
    schemaVersion: EXPORT_SCHEMA_VERSION,
    generatedAt: meta.generatedAt.toISOString(),
    controller: meta.tenantName,
    requestId: meta.requestId,
    subject: { userId: meta.userId },
    ruleIds: ['DSR-01', 'DSR-02'],
  };
  const headText = JSON.stringify(head, null, 1);
  yield Buffer.from(`${headText.slice(0, -2)},\n "categories": {`);
  let first = true;
  for (const [category, s] of stats) {
    const d = s.described;
    const info = d
      ? { provider: s.provider, table: d.table, fields: d.fields, purpose: d.purpose, retentionRule: d.retentionRule, legalBasis: d.legalBasis ?? null, count: s.count }
      : { provider: s.provider, undescribed: true, count: s.count };
    yield Buffer.from(`${first ? '' : ','}\n  ${JSON.stringify(category)}: ${JSON.stringify(info).slice(0, -1)},"rows": [`);
    first = false;
    if (s.json) yield* s.json.read();
    yield Buffer.from(']}');
  }
  yield Buffer.from('\n }\n}\n');
}

const BOM = '\ufeff';

/** Semicolon-separated (German spreadsheets), UTF-8 with BOM; cells that a spreadsheet would run as a formula are defused. */
async function* csvFile(s: CategoryStats): AsyncGenerator<Buffer> {
  yield Buffer.from(BOM + [...s.columns.keys()].map(csvCell).join(';') + '\r\n');
  if (s.csv) yield* s.csv.read();
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const NEEDS_QUOTES = /[";\r\n]/;

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : cellText(value);
  if (!text) return text;
  const c = text.charCodeAt(0);
  // = + - @ TAB CR: a spreadsheet would run it as a formula.
  if (c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const DATE_DE = new Intl.DateTimeFormat('de-DE', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Berlin' });

/** The human-readable view (German): self-contained, no scripts, no external resources. */
function indexHtml(meta: ArchiveMeta, stats: Map<string, CategoryStats>): string {
  const e = escapeHtml;
  const sections = [...stats].map(([category, s]) => {
    const d = s.described;
    const columns = [...s.columns.keys()];
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

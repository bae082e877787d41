import type { Response } from 'express';

/** Streams an opened archive; the link was already used up and audited. */
export async function sendArchive(res: Response, requestId: string, chunks: AsyncGenerator<Buffer>): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Disposition', `attachment; filename="meine-daten-${requestId.slice(0, 8)}.zip"`);
  res.setHeader('Cache-Control', 'no-store');
  for await (const chunk of chunks) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

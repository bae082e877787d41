import type { Response } from 'express';

/** Streams an opened archive; the link was already used up and audited. */
export async function sendArchive(res: Response, requestId: string, chunks: AsyncGenerator<Buffer>): Promise<void> {
  // The first chunk is opened before anything is sent: a damaged archive is an error, not a broken file.
  const first = await chunks.next();
  res.status(200);
  res.setHeader('Content-Type', 'application/zip');
  res.setHeader('Content-Disposition', `attachment; filename="meine-daten-${requestId.slice(0, 8)}.zip"`);
  res.setHeader('Cache-Control', 'no-store');
  try {
    if (!first.done) res.write(first.value);
    for await (const chunk of chunks) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  } catch (error) {
    // A later chunk failed its check: cut the connection so the client sees an incomplete download.
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

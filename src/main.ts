import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startService } from './service.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  try {
    const service = await startService(config, logger);
    logger.info(
      { url: service.url, publicUrl: config.publicUrl, database: service.ctx.database.kind, operatorTokenFile: service.operatorTokenFile ?? 'OPERATOR_TOKEN' },
      `Schulbrücke läuft auf ${service.url} (Datenbank: ${service.ctx.database.kind})`,
    );
    let signalled = false;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (signalled) return;
        signalled = true;
        logger.info({ signal }, 'shutting down: draining requests');
        service.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    logger.fatal({ err: { message: (error as Error).message, code: (error as { code?: string }).code } }, 'start failed');
    process.exit(1);
  }
}

void main();

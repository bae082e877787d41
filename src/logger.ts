import { pino, type Logger } from 'pino';

/** JSON logs; credentials and cookies are redacted wherever they might appear. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'schulbruecke' },
      redact: {
        paths: ['authorization', 'cookie', 'token', 'secret', 'password', '*.authorization', '*.cookie', '*.token', '*.secret', '*.password', 'req.headers'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

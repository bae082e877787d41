/**
 * A small BigBlueButton API server for tests and benchmarks, behaving like
 * bbb-web where it matters to us: the hash is chosen by the checksum's length,
 * computed over the raw query string (without `checksum`), wrong or missing
 * checksums are rejected, meetings keep state (idempotent create, join needs an
 * existing meeting and the current createTime, end), and every call's received
 * parameters are recorded so tests can assert the obligations.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Algo = 'sha1' | 'sha256' | 'sha384' | 'sha512';
const BY_LENGTH: Record<number, Algo> = { 40: 'sha1', 64: 'sha256', 96: 'sha384', 128: 'sha512' };

export interface ReceivedCall {
  call: string;
  params: Record<string, string>;
  algorithm: Algo | null;
  ok: boolean;
}

export interface FakeMeeting {
  meetingID: string;
  name: string;
  createTime: string;
  params: Record<string, string>;
  participants: { userID: string; fullName: string; role: string; guest: boolean }[];
  ended: boolean;
}

export interface FakeRecording {
  recordID: string;
  meetingID: string;
  meta: Record<string, string>;
  startTime: number;
}

export interface BbbTestServer {
  baseUrl: string;
  secret: string;
  calls: ReceivedCall[];
  meetings: Map<string, FakeMeeting>;
  recordings: FakeRecording[];
  /** Which algorithms bbb-web accepts (supportedChecksumAlgorithms). */
  supported: Set<Algo>;
  /** Make the next answers misbehave. */
  mode: 'normal' | 'failed' | 'bad-xml' | 'hang';
  /** A slow bbb-web: milliseconds an accepted call of that name waits before it is answered (and takes effect). */
  delays: Partial<Record<string, number>>;
  /** Calls (by name) that answer FAILED like mode 'failed', while the others work. */
  failing: Set<string>;
  /** A meeting disappears on the server (e.g. expired after the last user left). */
  vanish(meetingId: string): void;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

function xml(fields: Record<string, string | number | boolean>, inner = ''): string {
  const body = Object.entries(fields)
    .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><response>${body}${inner}</response>`;
}
const failed = (key: string, message: string) => xml({ returncode: 'FAILED', messageKey: key, message });

export async function startBbbServer(options: { secret?: string; supported?: Algo[] } = {}): Promise<BbbTestServer> {
  const secret = options.secret ?? randomBytes(20).toString('hex');
  const calls: ReceivedCall[] = [];
  const meetings = new Map<string, FakeMeeting>();
  const recordings: FakeRecording[] = [];
  const state: BbbTestServer = {
    baseUrl: '',
    secret,
    calls,
    meetings,
    recordings,
    supported: new Set(options.supported ?? ['sha1', 'sha256', 'sha384', 'sha512']),
    mode: 'normal',
    delays: {},
    failing: new Set(),
    vanish: (id) => void meetings.delete(id),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
  const sessions = new Map<string, { meetingID: string; userID: string }>();

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const [path, rawQuery = ''] = url.split('?', 2) as [string, string?];
    const send = (status: number, body: string, type = 'text/xml') => {
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8` });
      res.end(body);
    };
    if (path === '/bigbluebutton/client') {
      const token = new URLSearchParams(rawQuery).get('sessionToken') ?? '';
      const s = sessions.get(token);
      if (!s) return send(401, '<!doctype html><title>BBB</title><p>invalid session</p>', 'text/html');
      return send(200, `<!doctype html><html lang="en"><title>BigBlueButton</title><main><h1 id="bbb-client">BigBlueButton client</h1><p id="bbb-meeting">${xmlEscape(s.meetingID)}</p><p id="bbb-user">${xmlEscape(s.userID)}</p></main></html>`, 'text/html');
    }
    const m = /^\/bigbluebutton\/api\/(\w+)$/.exec(path);
    if (!m) return send(404, 'not found', 'text/plain');
    const call = m[1]!;
    if (state.mode === 'hang') return; // never answers: the client must time out
    if (state.mode === 'bad-xml') return send(200, '<response><returncode>SUCCESS</returncode>');
    // bbb-web: the checksum is the last parameter; the hash covers the query without it.
    const idx = rawQuery.lastIndexOf('checksum=');
    const given = idx >= 0 ? rawQuery.slice(idx + 'checksum='.length) : '';
    const signedPart = idx > 0 ? rawQuery.slice(0, idx - 1) : idx === 0 ? '' : rawQuery;
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(signedPart)) params[k] = v;
    const algorithm = BY_LENGTH[given.length] ?? null;
    const record = (ok: boolean) => calls.push({ call, params, algorithm, ok });
    if (!given || !algorithm || !state.supported.has(algorithm)) {
      record(false);
      return send(200, failed('checksumError', 'You did not pass the checksum security check'));
    }
    const expected = createHash(algorithm).update(call + signedPart + secret).digest('hex');
    if (expected !== given.toLowerCase()) {
      record(false);
      return send(200, failed('checksumError', 'You did not pass the checksum security check'));
    }
    record(true);
    const delay = state.delays[call] ?? 0;
    if (delay > 0) setTimeout(() => answer(call, params, res), delay);
    else answer(call, params, res);
  });

  /** Answers an accepted call; the meetings change only now (after any delay). */
  function answer(call: string, params: Record<string, string>, res: http.ServerResponse): void {
    const send = (status: number, body: string, type = 'text/xml') => {
      if (res.destroyed) return; // the client gave up (timeout) or the server closed
      res.writeHead(status, { 'content-type': `${type}; charset=utf-8` });
      res.end(body);
    };
    if (state.mode === 'failed' || state.failing.has(call)) return send(200, failed('internalError', 'simulated failure'));

    const id = params.meetingID ?? '';
    switch (call) {
      case 'create': {
        if (!id || !params.name) return send(200, failed('missingParam', 'meetingID and name are required'));
        let meeting = meetings.get(id);
        if (!meeting) {
          meeting = { meetingID: id, name: params.name, createTime: String(Date.now() + meetings.size), params, participants: [], ended: false };
          meetings.set(id, meeting);
          return send(200, xml({ returncode: 'SUCCESS', meetingID: id, internalMeetingID: randomBytes(20).toString('hex'), createTime: meeting.createTime, hasBeenForciblyEnded: false, messageKey: '', message: '' }));
        }
        return send(200, xml({ returncode: 'SUCCESS', meetingID: id, createTime: meeting.createTime, messageKey: 'duplicateWarning', message: 'This conference was already in existence and may currently be in progress.' }));
      }
      case 'join': {
        const meeting = meetings.get(id);
        if (!meeting) return send(200, failed('invalidMeetingIdentifier', 'The meeting ID that you supplied did not match any existing meetings'));
        if (!params.fullName) return send(200, failed('missingParamFullName', 'You must specify a name for the attendee who will be joining the meeting.'));
        if (params.role !== 'MODERATOR' && params.role !== 'VIEWER') return send(200, failed('invalidRole', 'role must be MODERATOR or VIEWER'));
        if (params.createTime && params.createTime !== meeting.createTime) return send(200, failed('mismatchCreateTimeParam', 'The createTime parameter submitted mismatches with the current meeting.'));
        meeting.participants.push({ userID: params.userID ?? '', fullName: params.fullName, role: params.role, guest: params.guest === 'true' });
        const token = randomBytes(12).toString('hex');
        sessions.set(token, { meetingID: id, userID: params.userID ?? '' });
        const clientUrl = `${state.baseUrl}/client?sessionToken=${token}`;
        if (params.redirect === 'false') return send(200, xml({ returncode: 'SUCCESS', meeting_id: id, session_token: token, url: clientUrl }));
        res.writeHead(302, { location: clientUrl });
        res.end();
        return;
      }
      case 'end': {
        if (!meetings.has(id)) return send(200, failed('notFound', 'We could not find a meeting with that meeting ID'));
        const ended = meetings.get(id)!;
        meetings.delete(id);
        if (ended.params.record === 'true') {
          // bbb-web keeps a recording of a meeting created with record=true (processed after the end).
          const meta = Object.fromEntries(Object.entries(ended.params).filter(([k]) => k.startsWith('meta_')).map(([k, v]) => [k.slice(5).toLowerCase(), v]));
          recordings.push({ recordID: `${createHash('sha1').update(id).digest('hex')}-${ended.createTime}`, meetingID: id, meta, startTime: Number(ended.createTime) });
        }
        return send(200, xml({ returncode: 'SUCCESS', messageKey: 'sentEndMeetingRequest', message: 'A request to end the meeting was sent.' }));
      }
      case 'isMeetingRunning': {
        const meeting = meetings.get(id);
        return send(200, xml({ returncode: 'SUCCESS', running: Boolean(meeting && meeting.participants.length > 0) }));
      }
      case 'getMeetingInfo': {
        const meeting = meetings.get(id);
        if (!meeting) return send(200, failed('notFound', 'We could not find a meeting with that meeting ID'));
        return send(
          200,
          xml({
            returncode: 'SUCCESS',
            meetingName: meeting.name,
            meetingID: id,
            createTime: meeting.createTime,
            running: meeting.participants.length > 0,
            participantCount: meeting.participants.length,
            moderatorCount: meeting.participants.filter((p) => p.role === 'MODERATOR').length,
          }),
        );
      }
      case 'getRecordings': {
        const metaFilters = Object.entries(params).filter(([k]) => k.startsWith('meta_')).map(([k, v]) => [k.slice(5).toLowerCase(), v] as const);
        const list = recordings.filter((r) => (!id || r.meetingID === id) && metaFilters.every(([k, v]) => r.meta[k] === v));
        if (!list.length) return send(200, xml({ returncode: 'SUCCESS', messageKey: 'noRecordings', message: 'There are no recordings for the meeting(s).' }, '<recordings></recordings>'));
        const inner = list
          .map((r) => `<recording><recordID>${r.recordID}</recordID><meetingID>${xmlEscape(r.meetingID)}</meetingID><published>true</published><startTime>${r.startTime}</startTime><endTime>${r.startTime + 60_000}</endTime><metadata>${Object.entries(r.meta).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('')}</metadata></recording>`)
          .join('');
        return send(200, xml({ returncode: 'SUCCESS' }, `<recordings>${inner}</recordings>`));
      }
      case 'deleteRecordings': {
        const ids = (params.recordID ?? '').split(',').filter(Boolean);
        if (!ids.length) return send(200, failed('missingParamRecordID', 'You must specify one or more a recording IDs.'));
        const before = recordings.length;
        for (const rid of ids) {
          const i = recordings.findIndex((r) => r.recordID === rid);
          if (i >= 0) recordings.splice(i, 1);
        }
        if (before === recordings.length) return send(200, failed('notFound', 'We could not find recordings'));
        return send(200, xml({ returncode: 'SUCCESS', deleted: true }));
      }
      default:
        return send(200, failed('unsupportedRequest', 'This request is not supported.'));
    }
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.baseUrl = `http://127.0.0.1:${port}/bigbluebutton`;
  return state;
}

/** Params of the last accepted call with that name. */
export function lastCall(server: BbbTestServer, call: string): Record<string, string> | undefined {
  for (let i = server.calls.length - 1; i >= 0; i--) if (server.calls[i]!.call === call && server.calls[i]!.ok) return server.calls[i]!.params;
  return undefined;
}

/**
 * A thin BigBlueButton API client: checksum = hex(HASH(callName + query + secret))
 * over exactly the query string that is sent; XML answers parsed with
 * fast-xml-parser. Every failure (returncode FAILED, timeout, bad XML, HTTP
 * error) becomes a 502 problem naming the backend, never a hang.
 */
import { createHash } from 'node:crypto';
import axios, { type AxiosInstance } from 'axios';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ProblemError } from '../shared/errors.js';
import type { Obligations } from './policy.js';

export type ChecksumAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface BbbServer {
  /** Backend name (backends.name), used in problems. */
  name: string;
  /** …/bigbluebutton (without /api). */
  baseUrl: string;
  secret: string;
  checksumAlgorithm: ChecksumAlgorithm;
}

export type Params = [string, string][];

/** RFC 3986 encoding as bbb-web decodes it (encodeURIComponent plus the reserved few). */
export function encodeParam(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function queryString(params: Params): string {
  return params.map(([k, v]) => `${encodeParam(k)}=${encodeParam(v)}`).join('&');
}

export function checksum(algorithm: ChecksumAlgorithm, callName: string, query: string, secret: string): string {
  return createHash(algorithm).update(callName + query + secret).digest('hex');
}

/** The signed URL of an API call. */
export function signedUrl(server: BbbServer, callName: string, params: Params): string {
  const query = queryString(params);
  const sum = checksum(server.checksumAlgorithm, callName, query, server.secret);
  return `${server.baseUrl}/api/${callName}?${query}${query ? '&' : ''}checksum=${sum}`;
}

export interface CreateOptions {
  meetingId: string;
  /** Shown in the client; the room's title (no personal names). */
  name: string;
  /** Only the room id goes into meta_ values (VC-12). */
  roomId: string;
  /** Fresh per meeting for `sensitive` rooms (VC-04, SEC-01). */
  moderatorPassword?: string;
  attendeePassword?: string;
  logoutUrl?: string;
  obligations: Obligations;
}

export interface JoinOptions {
  meetingId: string;
  createTime: string;
  fullName: string;
  /** Pseudonymous: users.id, or a random id for guests (VC-12). */
  userId: string;
  obligations: Obligations;
}

export interface MeetingInfo {
  meetingID: string;
  createTime: string;
  running: boolean;
  participantCount: number;
  moderatorCount: number;
}

export interface Recording {
  recordID: string;
  meetingID: string;
  startTime: string;
  endTime: string;
  roomId: string | null;
}

const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: true, trimValues: true, isArray: (name) => name === 'recording' });

type Xml = Record<string, unknown>;

/** The `create` parameters the obligations demand (VC-04, VC-05, VC-10, VC-12, VC-14, VC-16). */
export function createParams(o: CreateOptions): Params {
  const ob = o.obligations;
  const p: Params = [
    ['meetingID', o.meetingId],
    ['name', o.name],
    ['record', String(ob.record)],
  ];
  if (ob.record) {
    // VC-05: the teacher starts it by hand; everyone is told.
    p.push(['autoStartRecording', 'false'], ['allowStartStopRecording', 'true'], ['notifyRecordingIsOn', 'true']);
  } else {
    p.push(['autoStartRecording', 'false'], ['allowStartStopRecording', 'false']);
  }
  p.push(
    ['meetingKeepEvents', 'false'],
    // VC-04/VC-15: anyone not on the roster (guest=true, share links) always waits for admission;
    // roster members join with guest=false and are not held by it.
    ['guestPolicy', 'ASK_MODERATOR'],
    ['lockSettingsDisablePrivateChat', String(!ob.privateChat)],
    ['lockSettingsDisableNotes', String(ob.disableNotes)],
    ['lockSettingsDisableCam', String(ob.disableCam)],
    ['lockSettingsLockOnJoin', 'true'],
    ['webcamsOnlyForModerator', String(ob.webcamsOnlyForModerator)],
    ['muteOnStart', String(ob.muteOnStart)],
    ['endWhenNoModerator', String(ob.endWhenNoModerator)],
    ['meetingExpireWhenLastUserLeftInMinutes', String(ob.expireWhenLastUserLeftMinutes)],
    ['disabledFeatures', 'learningDashboard'],
    ['meta_schulbrueckeroom', o.roomId],
  );
  if (o.moderatorPassword) p.push(['moderatorPW', o.moderatorPassword]);
  if (o.attendeePassword) p.push(['attendeePW', o.attendeePassword]);
  if (o.logoutUrl) p.push(['logoutURL', o.logoutUrl]);
  return p;
}

/** The `join` parameters for one person at the moment of joining (VC-02, VC-06, VC-12). */
export function joinParams(o: JoinOptions): Params {
  const ob = o.obligations;
  const p: Params = [
    ['meetingID', o.meetingId],
    ['fullName', o.fullName],
    ['role', ob.moderator ? 'MODERATOR' : 'VIEWER'],
    ['userID', o.userId],
    ['createTime', o.createTime],
    ['guest', String(ob.guest)],
    ['redirect', 'true'],
  ];
  if (ob.cameraOff) p.push(['userdata-bbb_auto_share_webcam', 'false']);
  if (ob.skipVideoPreview) p.push(['userdata-bbb_skip_video_preview', 'true']);
  return p;
}

export class BbbClient {
  private readonly http: AxiosInstance;

  constructor(
    readonly server: BbbServer,
    options: { timeoutMs?: number } = {},
  ) {
    this.http = axios.create({ timeout: options.timeoutMs ?? 5000, responseType: 'text', transformResponse: (d: unknown) => d, validateStatus: () => true, maxRedirects: 0 });
  }

  url(callName: string, params: Params): string {
    return signedUrl(this.server, callName, params);
  }

  private fail(callName: string, detail: string, cause?: unknown): ProblemError {
    return new ProblemError(502, 'backend-failed', `Das Konferenzsystem „${this.server.name}“ (BigBlueButton) hat bei „${callName}“ nicht wie erwartet geantwortet: ${detail}.`, {
      extra: { backend: this.server.name, call: callName },
      cause,
    });
  }

  /** Calls the API; returns the parsed <response>. `notFound` answers are returned, other FAILED ones thrown. */
  async call(callName: string, params: Params, accept: string[] = []): Promise<Xml> {
    let body: string;
    try {
      const res = await this.http.get<string>(this.url(callName, params));
      if (res.status !== 200) throw this.fail(callName, `HTTP ${res.status}`);
      body = res.data;
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      const code = (error as { code?: string }).code;
      throw this.fail(callName, code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'Zeitüberschreitung' : `nicht erreichbar (${code ?? 'Fehler'})`, error);
    }
    if (typeof body !== 'string' || XMLValidator.validate(body) !== true) throw this.fail(callName, 'ungültiges XML');
    const parsed = parser.parse(body) as { response?: Xml };
    const response = parsed.response;
    if (!response || typeof response !== 'object') throw this.fail(callName, 'keine <response>');
    if (response.returncode !== 'SUCCESS') {
      const key = typeof response.messageKey === 'string' ? response.messageKey : 'unbekannt';
      if (accept.includes(key)) return response;
      throw this.fail(callName, `returncode ${String(response.returncode)} (${key})`);
    }
    return response;
  }

  async create(o: CreateOptions): Promise<{ meetingId: string; createTime: string }> {
    const r = await this.call('create', createParams(o));
    return { meetingId: String(r.meetingID), createTime: String(r.createTime) };
  }

  joinUrl(o: JoinOptions): string {
    return this.url('join', joinParams(o));
  }

  async end(meetingId: string): Promise<boolean> {
    const r = await this.call('end', [['meetingID', meetingId]], ['notFound']);
    return r.returncode === 'SUCCESS';
  }

  async isMeetingRunning(meetingId: string): Promise<boolean> {
    const r = await this.call('isMeetingRunning', [['meetingID', meetingId]]);
    return r.running === 'true';
  }

  /** null when the backend does not know the meeting (any more). */
  async getMeetingInfo(meetingId: string): Promise<MeetingInfo | null> {
    const r = await this.call('getMeetingInfo', [['meetingID', meetingId]], ['notFound']);
    if (r.returncode !== 'SUCCESS') return null;
    return {
      meetingID: String(r.meetingID),
      createTime: String(r.createTime),
      running: r.running === 'true',
      participantCount: Number(r.participantCount ?? 0),
      moderatorCount: Number(r.moderatorCount ?? 0),
    };
  }

  /** Recordings of one room, found by its meta value (RET-05). */
  async getRecordings(roomId: string): Promise<Recording[]> {
    const r = await this.call('getRecordings', [['meta_schulbrueckeroom', roomId], ['state', 'any']]);
    const recs = (r.recordings as { recording?: Xml[] } | string | undefined) ?? '';
    const list = typeof recs === 'object' && Array.isArray(recs.recording) ? recs.recording : [];
    return list.map((x) => {
      const meta = (x.metadata ?? {}) as Xml;
      return {
        recordID: String(x.recordID),
        meetingID: String(x.meetingID),
        startTime: String(x.startTime ?? ''),
        endTime: String(x.endTime ?? ''),
        roomId: typeof meta.schulbrueckeroom === 'string' ? meta.schulbrueckeroom : null,
      };
    });
  }

  async deleteRecordings(recordIds: string[]): Promise<boolean> {
    if (!recordIds.length) return false;
    const r = await this.call('deleteRecordings', [['recordID', recordIds.join(',')]]);
    return r.deleted === 'true';
  }
}

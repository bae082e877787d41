/**
 * A small local server speaking Moodle's web-service REST protocol for the one
 * function the bridge uses (report_competency_data_for_report): form-encoded
 * POST to /webservice/rest/server.php, JSON answers, and Moodle's way of
 * failing (HTTP 200 with exception/errorcode/message) for a wrong token, an
 * unknown function, missing parameters or a user not enrolled.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCompetency {
  id: number;
  idnumber: string;
  shortname: string;
  framework: { id: number; idnumber: string; shortname: string };
}

export interface MoodleWsServer {
  url: string;
  token: string;
  /** courseId → userId → ratings (Moodle scale values, 1-based, or null). */
  ratings: Map<number, Map<number, Map<number, number | null>>>;
  competencies: FakeCompetency[];
  calls: { wsfunction: string; params: Record<string, string> }[];
  close(): Promise<void>;
}

const exception = (exception: string, errorcode: string, message: string) => ({ exception, errorcode, message });

export async function startMoodleWs(token: string, competencies: FakeCompetency[]): Promise<MoodleWsServer> {
  const ratings = new Map<number, Map<number, Map<number, number | null>>>();
  const calls: MoodleWsServer['calls'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST' || req.url !== '/webservice/rest/server.php') return send(404, { error: 'not found' });
      if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) return send(200, exception('invalid_parameter_exception', 'invalidparameter', 'Invalid parameter value detected'));
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      calls.push({ wsfunction: form.wsfunction ?? '', params: Object.fromEntries(Object.entries(form).filter(([k]) => k !== 'wstoken')) });
      if (form.moodlewsrestformat !== 'json') return res.writeHead(200, { 'Content-Type': 'application/xml' }).end('<?xml version="1.0"?><RESPONSE/>');
      if (form.wstoken !== token) return send(200, exception('moodle_exception', 'invalidtoken', 'Invalid token - token not found'));
      if (form.wsfunction !== 'report_competency_data_for_report') {
        return send(200, exception('dml_missing_record_exception', 'invalidrecord', "Can't find data record in database table external_functions."));
      }
      const courseid = Number(form.courseid);
      const userid = Number(form.userid);
      if (!Number.isInteger(courseid) || !Number.isInteger(userid) || form.courseid === undefined || form.userid === undefined) {
        return send(200, exception('invalid_parameter_exception', 'invalidparameter', 'Invalid parameter value detected'));
      }
      const user = ratings.get(courseid)?.get(userid);
      if (!user) return send(200, exception('coding_exception', 'codingerror', 'Coding error detected, it must be fixed by a programmer: invaliduser'));
      send(200, {
        courseid,
        user: { id: userid },
        course: { id: courseid },
        pushratingstouserplans: true,
        usercompetencies: competencies.map((c, i) => ({
          usercompetencycourse: { id: i + 1, userid, courseid, competencyid: c.id, proficiency: (user.get(c.id) ?? null) !== null ? (user.get(c.id)! >= 3) : null, grade: user.get(c.id) ?? null, gradename: '-' },
          competency: {
            competency: { id: c.id, shortname: c.shortname, idnumber: c.idnumber, sortorder: i, competencyframeworkid: c.framework.id },
            framework: c.framework,
            linkedcourses: [],
            relatedcompetencies: [],
          },
        })),
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    ratings,
    competencies,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

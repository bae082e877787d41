import { DEFAULT_RULES, mapRoles } from '../../src/iserv/index.js';
import { userinfoSchema, subjectOf, displayNameOf } from '../../src/iserv/claims.js';

const claims = (roles: { id?: string; name?: string }[], groups: { act: string; name?: string }[] = []) => ({ roles, groups });

describe('IServ role mapping (pure)', () => {
  test.each([
    ['Schüler', ['student']],
    ['schülerin', ['student']],
    ['LEHRER', ['teacher']],
    ['Lehrerin', ['teacher']],
    ['Schulleitung', ['leadership']],
    ['Verwaltung', ['staff']],
    ['Sekretariat', ['staff']],
    ['Administrator', ['admin']],
    ['Referendar', ['laa']],
    ['LAA', ['laa']],
    ['Datenschutzbeauftragte', ['dpo']],
    ['Schulsozialarbeit', ['social_work']],
    ['Schulpsychologie', ['school_psychology']],
  ])('default: role name %s → %j (case-insensitive)', (name, expected) => {
    expect(mapRoles(DEFAULT_RULES, claims([{ id: 'r1', name }]))).toEqual(expected);
  });

  test('matches on the role id too', () => {
    expect(mapRoles(DEFAULT_RULES, claims([{ id: 'role_teacher' }]))).toEqual(['teacher']);
  });

  test('unknown roles map to nothing (the login is then refused)', () => {
    expect(mapRoles(DEFAULT_RULES, claims([{ id: 'ROLE_PARENT', name: 'Eltern' }]))).toEqual([]);
  });

  test('group rules match act or name; roles are united and ordered', () => {
    const rules = [
      { on: 'group' as const, match: 'schulleitung', roles: ['leadership' as const] },
      { on: 'role' as const, match: 'Lehrer', roles: ['teacher' as const] },
    ];
    expect(mapRoles(rules, claims([{ name: 'Lehrer' }], [{ act: 'SchulLeitung', name: 'Schulleitung' }]))).toEqual(['teacher', 'leadership']);
    expect(mapRoles(rules, claims([], [{ act: 'sl', name: 'Schulleitung' }]))).toEqual(['leadership']);
  });

  test('VC-08: restricting roles stay even with an empty tenant mapping', () => {
    expect(mapRoles([], claims([{ name: 'Schulpsychologie' }, { name: 'Lehrer' }]))).toEqual(['school_psychology']);
    expect(mapRoles([{ on: 'role', match: 'Schulsozialarbeit', roles: ['teacher'] }], claims([{ name: 'Schulsozialarbeit' }]))).toEqual(['teacher', 'social_work']);
  });
});

describe('IServ userinfo claims', () => {
  test('uuid is the subject, sub the fallback; name, then preferred_username', () => {
    const full = userinfoSchema.parse({ sub: 'anna.l', uuid: 'u-1', name: 'Anna L', preferred_username: 'anna.l' });
    expect(subjectOf(full)).toBe('u-1');
    expect(displayNameOf(full)).toBe('Anna L');
    const bare = userinfoSchema.parse({ sub: 'anna.l', preferred_username: 'anna.l' });
    expect(subjectOf(bare)).toBe('anna.l');
    expect(displayNameOf(bare)).toBe('anna.l');
  });

  test('malformed group and role entries are dropped, not fatal; numeric ids become strings', () => {
    const parsed = userinfoSchema.parse({
      sub: 's',
      groups: [{ act: 'klasse-5a', name: 'Klasse 5a' }, { name: 'ohne act' }, 17, 'lehrer'],
      roles: [{ id: 3, name: 'Lehrer' }, {}, 'Schüler'],
    });
    expect(parsed.groups).toEqual([{ act: 'klasse-5a', name: 'Klasse 5a' }, { act: 'lehrer', name: 'lehrer' }]);
    expect(parsed.roles).toEqual([{ id: '3', name: 'Lehrer' }, { id: 'Schüler', name: 'Schüler' }]);
  });

  test('without sub the answer is unusable', () => {
    expect(userinfoSchema.safeParse({ uuid: 'u' }).success).toBe(false);
  });
});

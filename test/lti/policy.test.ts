import { contextType, DEFAULT_ROLE_MAPPING, effectiveMapping, landingPath, mapRoles, normaliseRole } from '../../lti/policy.js';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

describe('LTI role mapping and landing (pure)', () => {
  test('Moodle teacher, pupil and site admin roles map to teacher, student, admin+teacher', () => {
    expect(mapRoles([`${LIS}membership#Instructor`], DEFAULT_ROLE_MAPPING).roles).toEqual(['teacher']);
    expect(mapRoles([`${LIS}membership#Learner`], DEFAULT_ROLE_MAPPING).roles).toEqual(['student']);
    expect(mapRoles([`${LIS}institution/person#Administrator`, `${LIS}membership#Instructor`, `${LIS}system/person#Administrator`], DEFAULT_ROLE_MAPPING).roles).toEqual(['admin', 'teacher']);
  });

  test('short context roles and LTI 1.1 forms are understood; unknown roles give guest', () => {
    expect(normaliseRole('Instructor')).toBe(`${LIS}membership#Instructor`);
    expect(mapRoles(['Learner'], DEFAULT_ROLE_MAPPING).roles).toEqual(['student']);
    expect(mapRoles(['urn:lti:role:ims/lis/Instructor'], DEFAULT_ROLE_MAPPING).roles).toEqual(['teacher']);
    const unknown = mapRoles(['http://example.org/role#Wizard'], DEFAULT_ROLE_MAPPING);
    expect(unknown).toEqual({ roles: ['guest'], unmapped: 1, refusedCustom: [] });
  });

  test('VC-08: custom roles add only restricting roles; granting ones are refused and reported', () => {
    const d = mapRoles([`${LIS}membership#Learner`], DEFAULT_ROLE_MAPPING, 'school_psychology, admin dpo,leadership,laa');
    expect(d.roles).toEqual(['school_psychology', 'student']);
    expect(d.refusedCustom).toEqual(['admin', 'dpo', 'leadership', 'laa']);
  });

  test('tenant overrides replace single entries, invalid app roles are dropped', () => {
    const m = effectiveMapping({ Mentor: ['staff'], [`${LIS}membership#Learner`]: ['student', 'nonsense'] });
    expect(m[`${LIS}membership#Mentor`]).toEqual(['staff']);
    expect(m[`${LIS}membership#Learner`]).toEqual(['student']);
    expect(m[`${LIS}membership#Instructor`]).toEqual(['teacher']);
  });

  test('landing per CONTRACTS.md; context type from Moodle\'s bare CourseSection or a vocabulary URI', () => {
    const c = '11111111-2222-4333-8444-555555555555';
    expect(landingPath(c, { room: '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f' })).toBe('/rooms/6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f');
    expect(landingPath(c, { room: '../admin' })).toBe(`/contexts/${c}`);
    expect(landingPath(c, { view: 'grids' })).toBe(`/contexts/${c}/grids`);
    expect(landingPath(c, { view: 'privacy' })).toBe('/privacy/me');
    expect(landingPath(c, undefined)).toBe(`/contexts/${c}`);
    expect(contextType(['CourseSection'])).toBe('CourseSection');
    expect(contextType(['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'])).toBe('CourseOffering');
    expect(contextType(undefined)).toBe('course');
  });
});

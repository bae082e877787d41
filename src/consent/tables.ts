import type { CreatedAt, Generated, Timestamp } from '../db/types.js';

export interface ConsentTables {
  /** VC-07, VC-09: consents by pseudonymous user (video module; peer meetings). */
  consents: {
    id: Generated<string>;
    tenant_id: string;
    user_id: string;
    /** 'video' | 'peer' */
    scope: string;
    given_at: Timestamp;
    withdrawn_at: Timestamp | null;
    source: string;
    created_at: CreatedAt;
  };
  /** VC-06, DSR-04: objections (Art. 21 GDPR), effective at the next join. */
  objections: {
    id: Generated<string>;
    tenant_id: string;
    user_id: string;
    /** 'video' (camera): what the person objects to. */
    scope: string;
    recorded_at: Timestamp;
    lifted_at: Timestamp | null;
    source: string;
    created_at: CreatedAt;
  };
  /** VC-13: versioned usage rules per tenant. */
  usage_rules: {
    tenant_id: string;
    version: number;
    text_de: string;
    text_en: string | null;
    created_at: CreatedAt;
  };
  /** VC-13: acceptance of a version by a pseudonymous user. */
  usage_rule_acceptances: {
    tenant_id: string;
    user_id: string;
    version: number;
    accepted_at: Timestamp;
  };
}

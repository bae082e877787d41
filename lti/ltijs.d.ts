/** The parts of ltijs 5.9 (CommonJS, untyped) that the bridge uses. */
declare module 'ltijs' {
  export interface LtiPlatform {
    platformUrl(): Promise<string>;
    platformClientId(): Promise<string>;
    platformKid(): Promise<string>;
    platformActive(active?: boolean): Promise<boolean>;
    platformPrivateKey(): Promise<string>;
    platformAuthConfig(): Promise<{ method: string; key: string }>;
  }
  export interface LtiIdToken {
    iss: string;
    clientId: string;
    deploymentId?: string;
    platformContext: {
      namesRoles?: { context_memberships_url: string };
      deepLinkingSettings?: Record<string, unknown>;
      resource?: { id: string };
    };
  }
  export interface LtiProvider {
    Database: unknown;
    app: (req: unknown, res: unknown, next: unknown) => void;
    setup(encryptionKey: string, database: { plugin: unknown }, options?: Record<string, unknown>): void;
    getPlatform(url: string, clientId?: string): Promise<LtiPlatform | false>;
    registerPlatform(platform: Record<string, unknown>): Promise<LtiPlatform>;
    deletePlatform(url: string, clientId: string): Promise<boolean>;
    NamesAndRoles: {
      getMembers(idtoken: LtiIdToken, options?: { pages?: number | false; limit?: number; url?: string }): Promise<{
        id?: string;
        context?: Record<string, unknown>;
        members: Array<Record<string, unknown>>;
        next?: string;
      }>;
    };
    DeepLinking: {
      createDeepLinkingMessage(idtoken: LtiIdToken, contentItems: unknown[], options?: Record<string, string>): Promise<string>;
    };
  }
  const ltijs: { Provider: LtiProvider };
  export default ltijs;
}

declare module 'ltijs/dist/Utils/Keyset.js' {
  const Keyset: { build(database: unknown, encryptionKey: string): Promise<{ keys: Array<Record<string, unknown>> }> };
  export default Keyset;
}

import { describe, expect, it } from 'vitest';
import { ConfigError, loadFunctionsConfig, loadWorkerConfig } from '../../shared/config/index';

const base = {
  AUTH_MODE: 'dev',
  REALTIME_ENDPOINT: 'http://127.0.0.1:7080',
  STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  WORKER_URL: 'http://127.0.0.1:8080',
  WORKER_AUTH_SECRET: 'a-long-enough-secret',
};

describe('config', () => {
  it('parses valid settings with defaults and types', () => {
    const c = loadFunctionsConfig({
      ...base,
      CORS_ALLOWED_ORIGINS: 'http://a, http://b',
      SESSION_TOKEN_TTL_SECONDS: '30',
    });
    expect(c.REALTIME_PROVIDER).toBe('emulator');
    expect(c.CORS_ALLOWED_ORIGINS).toEqual(['http://a', 'http://b']);
    expect(c.SESSION_TOKEN_TTL_SECONDS).toBe(30);
    expect(c.LOG_TRANSCRIPTS).toBe(false);
  });

  it('names a missing setting in one message', () => {
    const { REALTIME_ENDPOINT: _, ...rest } = base;
    expect(() => loadFunctionsConfig(rest)).toThrowError(/REALTIME_ENDPOINT: is required but not set/);
  });

  it('names a malformed setting', () => {
    try {
      loadFunctionsConfig({ ...base, SESSION_TOKEN_TTL_SECONDS: '600' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => p.setting)).toEqual(['SESSION_TOKEN_TTL_SECONDS']);
    }
  });

  it('treats empty strings as unset and requires some storage', () => {
    expect(() => loadFunctionsConfig({ ...base, STORAGE_CONNECTION_STRING: '' })).toThrowError(
      /STORAGE_CONNECTION_STRING/,
    );
    expect(
      loadFunctionsConfig({
        ...base,
        STORAGE_CONNECTION_STRING: '',
        STORAGE_TABLE_ENDPOINT: 'https://a.table.core.windows.net',
      }).STORAGE_TABLE_ENDPOINT,
    ).toBe('https://a.table.core.windows.net');
  });

  it('requires the Entra settings only in entra mode', () => {
    expect(() => loadFunctionsConfig({ ...base, AUTH_MODE: 'entra' })).toThrowError(/ENTRA_TENANT_ID/);
    expect(() =>
      loadFunctionsConfig({ ...base, AUTH_MODE: 'entra', ENTRA_TENANT_ID: 't', ENTRA_AUDIENCE: 'api://x' }),
    ).not.toThrow();
  });

  it('validates the worker settings separately', () => {
    expect(() => loadWorkerConfig(base)).toThrowError(/FUNCTIONS_BASE_URL/);
    const w = loadWorkerConfig({ ...base, FUNCTIONS_BASE_URL: 'http://127.0.0.1:7071', PORT: '0' });
    expect(w.PORT).toBe(0);
  });
});

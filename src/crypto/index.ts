export * from './primitives.js';
export * from './signing.js';
export * from './key-provider.js';
export * from './keyring.js';
export * from './service-keys.js';
export * from './password-hash.js';
export * from './totp.js';
export * from './blob-cipher.js';

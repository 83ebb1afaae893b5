export const ADMIN = 'console-admin-token-0123456789';
export const SHOP = 'console-shop-viewer-token-0123';
export const INGEST = 'console-ingest-token-012345678';

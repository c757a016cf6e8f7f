/** Results stores: a local folder or an S3 prefix behind one interface (see store.ts). */
export * from './store';
export { LocalFolderStore } from './local';
export { S3Store } from './s3';

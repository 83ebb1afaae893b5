import { memoryLimit } from '../../core/memory-limit.ts';
import { type ArchiveDeps, BufferedArchive, type EventArchive } from './archive.ts';
import { type ArchiveConfig, type BufferSettings, defaultMaxBuffered } from './config.ts';

/** The archive a config asks for; the store's client library is loaded only when it is used. */
export async function createArchive(config: ArchiveConfig, deps: ArchiveDeps): Promise<EventArchive> {
  const settings: BufferSettings = {
    ...config,
    maxBuffered: config.maxBuffered ?? defaultMaxBuffered(memoryLimit()),
  };
  if (config.elasticsearch) {
    const { ElasticsearchArchive } = await import('./elasticsearch-archive.ts');
    return new BufferedArchive(new ElasticsearchArchive(config.elasticsearch, deps.log), settings, deps);
  }
  const { CollectorArchive } = await import('./collector-archive.ts');
  return new BufferedArchive(new CollectorArchive(config.collector), settings, deps);
}

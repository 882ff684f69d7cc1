import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ByteStream } from './byte-stream.js';
import type { ArchiveMember, UnreadableMember } from './members.js';

/** The next central-directory entry, or null after the last (yauzl's lazy mode reads one at a time). */
function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: Entry) => (cleanup(), resolve(entry));
    const onEnd = () => (cleanup(), resolve(null));
    const onError = (error: Error) => (cleanup(), reject(error));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/**
 * Reads a zip file member by member with yauzl: entries one at a time from the central
 * directory, each member's data as a stream, so memory does not grow with the archive.
 */
export async function* zipMembers(path: string): AsyncGenerator<ArchiveMember | UnreadableMember> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, strictFileNames: false });
  try {
    for (let entry = await nextEntry(zip); entry !== null; entry = await nextEntry(zip)) {
      if (entry.fileName.endsWith('/')) continue;
      if (entry.isEncrypted() || !entry.canDecodeFileData()) {
        const why = entry.isEncrypted() ? 'encrypted' : `compression method ${entry.compressionMethod} is not supported`;
        yield { path: entry.fileName, unreadable: why };
        continue;
      }
      const body = new ByteStream(await zip.openReadStreamPromise(entry));
      yield { path: entry.fileName, size: entry.uncompressedSize, body };
      await body.drain();
    }
  } finally {
    zip.close();
  }
}

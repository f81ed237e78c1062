/**
 * The hidden file input both upload buttons use (the composer's + and the files page's Upload): the
 * data files the server loads as tables, one at a time. The same file can be chosen again.
 */
import type { Ref } from 'react';

const uploadTypes = '.csv,.tsv,.txt,.xlsx,.xls,.parquet,.json';

export function UploadInput({ onUpload, ref }: { onUpload: (file: File) => void; ref?: Ref<HTMLInputElement> }) {
  return (
    <input
      ref={ref}
      type="file"
      hidden
      accept={uploadTypes}
      onChange={(event) => {
        const file = event.target.files?.[0];
        if (file !== undefined) onUpload(file);
        event.target.value = '';
      }}
    />
  );
}

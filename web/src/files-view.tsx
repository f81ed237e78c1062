/**
 * The chat's workspace files (uploads, charts, figures, reports) with downloads, an upload button,
 * the report of the last answer, and a preview of the chosen file: text and Markdown as text, images
 * as images, and an HTML report in a frame sandboxed with no permissions at all (the report has no
 * script and fetches nothing; the sandbox makes sure). Files are fetched, not linked, because a link
 * cannot carry the token.
 */
import { useEffect, useState } from 'react';
import { api, saveBlob, type WorkspaceFile } from './api-client';
import { MarkdownView } from './markdown-view';
import { useMessages } from './messages';
import { UploadInput } from './upload-input';

interface Preview {
  path: string;
  text?: string;
  imageUrl?: string;
}

const textExtensions = ['.md', '.html', '.txt', '.csv', '.tsv', '.json', '.sql', '.py', '.yaml', '.yml'];
const imageExtensions = ['.png', '.svg', '.jpg', '.jpeg', '.gif', '.webp'];

const hasExtension = (path: string, extensions: string[]): boolean => extensions.some((extension) => path.toLowerCase().endsWith(extension));

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

interface FilesViewProps {
  sessionId: string | null;
  /** The file to show (a report just written); changes when the user opens another. */
  openPath: string | null;
  onOpen: (path: string) => void;
  onMakeReport: () => void;
  onUpload: (file: File) => void;
  /** Bumped by the app when the files may have changed (an upload, an answer). */
  version: number;
  busy: string | null;
}

export function FilesView({ sessionId, openPath, onOpen, onMakeReport, onUpload, version, busy }: FilesViewProps) {
  const t = useMessages();
  const [files, setFiles] = useState<WorkspaceFile[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    if (sessionId === null) return;
    let current = true;
    api.listFiles(sessionId).then(
      (list) => {
        if (!current) return;
        setFiles(list);
        setError(null);
      },
      (failure: Error) => {
        if (current) setError(failure.message);
      },
    );
    return () => {
      current = false;
    };
  }, [sessionId, version, reload]);

  useEffect(() => {
    if (sessionId === null || openPath === null) {
      setPreview(null);
      return;
    }
    let current = true;
    let imageUrl: string | undefined;
    api.fetchFile(sessionId, openPath).then(
      async (blob) => {
        if (!current) return;
        if (hasExtension(openPath, imageExtensions)) {
          imageUrl = URL.createObjectURL(blob);
          setPreview({ path: openPath, imageUrl });
        } else {
          setPreview({ path: openPath, text: await blob.text() });
        }
      },
      (failure: Error) => {
        if (current) setError(failure.message);
      },
    );
    return () => {
      current = false;
      if (imageUrl !== undefined) URL.revokeObjectURL(imageUrl);
    };
  }, [sessionId, openPath]);

  if (sessionId === null) return <section className="page"><p className="muted">{t('noChat')}</p></section>;

  const download = (path: string): void => {
    api.fetchFile(sessionId, path).then((blob) => saveBlob(blob, path.split('/').at(-1) ?? path), (failure: Error) => setError(failure.message));
  };
  const canPreview = (path: string): boolean => hasExtension(path, [...textExtensions, ...imageExtensions]);

  return (
    <section className="page files-page">
      <div className="page-header">
        <h2>{t('workspaceFiles')}</h2>
        <div className="toolbar">
          <button type="button" className="primary" onClick={onMakeReport} disabled={busy !== null}>
            {t('makeReport')}
          </button>
          <label className="button">
            {t('upload')}
            <UploadInput onUpload={onUpload} />
          </label>
          <button type="button" onClick={() => setReload(reload + 1)}>
            {t('refresh')}
          </button>
        </div>
      </div>
      {busy !== null && <p className="muted">{busy}</p>}
      {error !== null && <div className="error-box" role="alert">{error}</div>}
      {files === null ? (
        <p className="muted">{t('loading')}</p>
      ) : files.length === 0 ? (
        <p className="muted">{t('noFiles')}</p>
      ) : (
        <div className="table-scroll">
          <table className="files-table">
            <thead>
              <tr>
                <th>{t('name')}</th>
                <th className="numeric">{t('size')}</th>
                <th className="hide-narrow">{t('modified')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {files.map((file) => (
                <tr key={file.path} className={file.path === openPath ? 'selected' : undefined}>
                  <td>
                    {canPreview(file.path) ? (
                      <button type="button" className="link" onClick={() => onOpen(file.path)}>
                        {file.path}
                      </button>
                    ) : (
                      file.path
                    )}
                  </td>
                  <td className="numeric">{formatBytes(file.bytes)}</td>
                  <td className="hide-narrow muted">{new Date(file.modified).toLocaleString()}</td>
                  <td>
                    <button type="button" onClick={() => download(file.path)}>
                      {t('download')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {preview !== null && (
        <article className="preview">
          <div className="page-header">
            <h3>{/\/report\.(md|html)$/.test(preview.path) ? t('reportOf', { path: preview.path }) : preview.path}</h3>
            <button type="button" onClick={() => download(preview.path)}>
              {t('download')}
            </button>
          </div>
          {preview.imageUrl !== undefined ? (
            <img src={preview.imageUrl} alt={preview.path} />
          ) : preview.path.endsWith('.html') ? (
            <iframe className="preview-report" sandbox="" srcDoc={preview.text ?? ''} title={preview.path} />
          ) : preview.path.endsWith('.md') ? (
            <MarkdownView markdown={preview.text ?? ''} />
          ) : (
            <pre className="preview-text">{preview.text}</pre>
          )}
        </article>
      )}
    </section>
  );
}

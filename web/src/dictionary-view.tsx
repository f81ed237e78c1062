/**
 * The data dictionary: its tables, columns and metrics to browse, and its YAML to edit. A save the
 * server refuses (422) lists the problems by line; choosing one puts the cursor on that line.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError, api, type DictionaryDocument, type DictionaryProblem } from './api-client';
import { useMessages } from './messages';

/** The character offset where a 1-based line starts. */
function lineOffset(text: string, line: number): number {
  let offset = 0;
  for (let at = 1; at < line; at += 1) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  return offset;
}

export function DictionaryView() {
  const t = useMessages();
  const [current, setCurrent] = useState<DictionaryDocument | null>(null);
  const [yaml, setYaml] = useState('');
  const [problems, setProblems] = useState<DictionaryProblem[]>([]);
  const [status, setStatus] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);

  const load = (): void => {
    setProblems([]);
    setStatus(null);
    api.getDictionary().then(
      (loaded) => {
        setCurrent(loaded);
        setYaml(loaded.yaml);
      },
      (failure: Error) => setStatus({ kind: 'error', text: failure.message }),
    );
  };
  useEffect(load, []);

  const save = async (): Promise<void> => {
    setSaving(true);
    setStatus(null);
    setProblems([]);
    try {
      const { version } = await api.putDictionary(yaml);
      setStatus({ kind: 'ok', text: t('saved', { version }) });
      setCurrent(await api.getDictionary());
    } catch (failure) {
      if (failure instanceof ApiError && failure.problems.length > 0) {
        setProblems(failure.problems);
        setStatus({ kind: 'error', text: t('problems') });
      } else {
        setStatus({ kind: 'error', text: failure instanceof Error ? failure.message : String(failure) });
      }
    } finally {
      setSaving(false);
    }
  };

  const goToLine = (problem: DictionaryProblem): void => {
    const element = editor.current;
    if (element === null) return;
    const start = lineOffset(yaml, problem.line);
    const end = yaml.indexOf('\n', start);
    element.focus();
    element.setSelectionRange(start, end < 0 ? yaml.length : end);
    // Scrolls the selection into view: a line's height times the lines above it.
    const lineHeight = parseFloat(getComputedStyle(element).lineHeight) || 18;
    element.scrollTop = Math.max(0, (problem.line - 3) * lineHeight);
  };

  if (current === null) {
    return (
      <section className="page">
        <h2>{t('dictionaryTitle')}</h2>
        {status === null ? <p className="muted">{t('loading')}</p> : <div className="error-box" role="alert">{status.text}</div>}
      </section>
    );
  }
  const { dictionary } = current;
  return (
    <section className="page dictionary-page">
      <div className="page-header">
        <h2>{t('dictionaryTitle')}</h2>
        <span className="muted">
          {t('dictionaryVersion', { name: dictionary.name, version: dictionary.version })}
          {current.file === undefined ? '' : ` · ${current.file}`}
        </span>
      </div>
      <div className="dictionary-columns">
        <div className="dictionary-browser">
          <h3>{t('tables')}</h3>
          {dictionary.tables.map((table) => (
            <details key={table.name} className="dictionary-table">
              <summary>
                <code>{table.name}</code> <span className="muted">{table.description}</span>
              </summary>
              <div className="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th>{t('column')}</th>
                      <th>{t('description')}</th>
                      <th>{t('unit')}</th>
                      <th>{t('sensitivity')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {table.columns.map((column) => (
                      <tr key={column.name}>
                        <td>
                          <code>{column.name}</code>
                        </td>
                        <td>{column.description}</td>
                        <td>{column.unit}</td>
                        <td className={column.sensitivity === undefined || column.sensitivity === 'public' ? 'muted' : 'sensitive'}>{column.sensitivity}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          ))}
          {dictionary.metrics.length > 0 && (
            <>
              <h3>{t('metrics')}</h3>
              <div className="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th>{t('name')}</th>
                      <th>{t('label')}</th>
                      <th>SQL</th>
                    </tr>
                  </thead>
                  <tbody>
                    {dictionary.metrics.map((metric) => (
                      <tr key={metric.name}>
                        <td>
                          <code>{metric.name}</code>
                        </td>
                        <td>{metric.label}</td>
                        <td>
                          <code>{metric.sql}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </div>
        <div className="dictionary-editor">
          <h3>{t('editYaml')}</h3>
          <textarea ref={editor} className="yaml-editor" value={yaml} spellCheck={false} onChange={(event) => setYaml(event.target.value)} aria-label={t('editYaml')} />
          <div className="toolbar">
            <button type="button" className="primary" onClick={() => void save()} disabled={saving || yaml === current.yaml}>
              {t('save')}
            </button>
            <button type="button" onClick={load} disabled={saving}>
              {t('reload')}
            </button>
          </div>
          {status !== null && (
            <div className={status.kind === 'ok' ? 'ok-box' : 'error-box'} role={status.kind === 'ok' ? 'status' : 'alert'}>
              {status.text}
              {problems.length > 0 && (
                <ul className="problems">
                  {problems.map((problem, index) => (
                    <li key={index}>
                      <button type="button" className="link" onClick={() => goToLine(problem)}>
                        {t('lineColumn', { line: problem.line, column: problem.column })}
                      </button>
                      : {problem.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

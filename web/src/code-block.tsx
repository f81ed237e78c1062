/**
 * A piece of SQL or Python, collapsed unless it waits for approval. While it waits: approve, edit
 * (then run the edited code), skip, or run it and everything after it without asking again.
 */
import { useState } from 'react';
import type { ApprovalAction, CodeFinding } from './api-client';
import { useMessages } from './messages';

interface CodeBlockProps {
  language: 'sql' | 'python';
  code: string;
  /** The tool that runs it, shown beside the language. */
  tool?: string;
  findings?: CodeFinding[];
  /** True while the run waits for the user's decision (and `onDecide` takes it). */
  awaiting?: boolean;
  decision?: ApprovalAction;
  onDecide?: (action: ApprovalAction, code?: string) => void;
}

export function CodeBlock({ language, code, tool, findings = [], awaiting = false, decision, onDecide }: CodeBlockProps) {
  const t = useMessages();
  const [open, setOpen] = useState(awaiting);
  const [draft, setDraft] = useState<string | null>(null);
  const decide = (action: ApprovalAction, edited?: string): void => {
    setDraft(null);
    onDecide?.(action, edited);
  };
  return (
    <details className={`code-block${awaiting ? ' awaiting' : ''}`} open={open || awaiting} onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>
        <span className="code-language">{language === 'sql' ? t('sql') : t('python')}</span>
        {tool !== undefined && <span className="muted">{tool}</span>}
        {awaiting && <span className="badge">{t('awaitingApproval')}</span>}
        {decision !== undefined && <span className="badge quiet">{t(`decision_${decision}`)}</span>}
      </summary>
      {draft === null ? (
        <pre>
          <code>{code}</code>
        </pre>
      ) : (
        <textarea className="code-editor" value={draft} spellCheck={false} rows={Math.min(16, draft.split('\n').length + 1)} onChange={(event) => setDraft(event.target.value)} />
      )}
      {findings.length > 0 && (
        <ul className="findings">
          {findings.map((finding, index) => (
            <li key={index} className={`finding ${finding.severity}`}>
              {finding.line === undefined ? '' : `${finding.line}: `}
              {finding.message}
            </li>
          ))}
        </ul>
      )}
      {awaiting && (
        <div className="approval-buttons">
          {draft === null ? (
            <>
              <button type="button" className="primary" onClick={() => decide('run')}>
                {t('approve')}
              </button>
              <button type="button" onClick={() => setDraft(code)}>
                {t('edit')}
              </button>
              <button type="button" onClick={() => decide('skip')}>
                {t('skip')}
              </button>
              <button type="button" onClick={() => decide('run_all')}>
                {t('runAll')}
              </button>
            </>
          ) : (
            <>
              <button type="button" className="primary" onClick={() => decide('edit', draft)}>
                {t('runEdited')}
              </button>
              <button type="button" onClick={() => setDraft(null)}>
                {t('cancel')}
              </button>
            </>
          )}
        </div>
      )}
    </details>
  );
}

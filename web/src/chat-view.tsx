/** The chat: each turn (question, plan, code, steps, answer, table, chart) and the question box. */
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api, type ApprovalAction, type PlanReview, type ShareRequest } from './api-client';
import { ChartView } from './chart-view';
import { CodeBlock } from './code-block';
import { DataTable } from './data-table';
import { UploadInput } from './upload-input';
import { useMessages, type MessageKey } from './messages';
import { chartWithData, type Turn } from './turn';

interface ChatViewProps {
  /** The chat's id on the server; null before its first question. */
  sessionId: string | null;
  turns: Turn[];
  running: boolean;
  /** A line about the last upload (or its failure), shown above the question box. */
  notice: string | null;
  onAsk: (question: string) => void;
  onStop: () => void;
  onDecide: (turnIndex: number, codeId: string, action: ApprovalAction, code?: string) => void;
  onUpload: (file: File) => void;
}

export function ChatView({ sessionId, turns, running, notice, onAsk, onStop, onDecide, onUpload }: ChatViewProps) {
  const t = useMessages();
  const thread = useRef<HTMLDivElement>(null);
  // Follows the answer as it streams, unless the user scrolled up to read something earlier.
  const following = useRef(true);
  const turnCount = useRef(0);
  useEffect(() => {
    // A new question always brings its answer into view.
    if (turns.length !== turnCount.current) following.current = true;
    turnCount.current = turns.length;
    const element = thread.current;
    if (element !== null && following.current) element.scrollTop = element.scrollHeight;
  }, [turns]);
  const onScroll = (): void => {
    const element = thread.current;
    if (element !== null) following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
  };
  return (
    <section className="chat">
      <div className="thread" ref={thread} onScroll={onScroll}>
        {turns.length === 0 ? (
          <div className="empty">
            <h2>{t('emptyTitle')}</h2>
            <p className="muted">{t('emptyHint')}</p>
          </div>
        ) : (
          turns.map((turn, index) => (
            <TurnView key={index} sessionId={sessionId} turn={turn} onDecide={(codeId, action, code) => onDecide(index, codeId, action, code)} />
          ))
        )}
      </div>
      {notice !== null && <div className="notice">{notice}</div>}
      <Composer running={running} onAsk={onAsk} onStop={onStop} onUpload={onUpload} />
    </section>
  );
}

const endStatuses: Partial<Record<string, MessageKey>> = {
  stopped: 'status_stopped',
  needs_approval: 'status_needs_approval',
  abstained: 'status_abstained',
};

/** Figures the turn's Python saved (PNG, SVG, JPEG), shown under its answer. */
const isFigure = (path: string): boolean => /\.(png|svg|jpe?g)$/i.test(path);

/** A figure from the session's folder: fetched with the token, shown from a blob URL. */
function Figure({ sessionId, path }: { sessionId: string; path: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let objectUrl: string | undefined;
    let current = true;
    api.fetchFile(sessionId, path).then(
      (blob) => {
        if (!current) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      },
      () => undefined,
    );
    return () => {
      current = false;
      if (objectUrl !== undefined) URL.revokeObjectURL(objectUrl);
    };
  }, [sessionId, path]);
  return url === null ? null : <img className="figure" src={url} alt={path} />;
}

interface TurnViewProps {
  sessionId: string | null;
  turn: Turn;
  onDecide: (codeId: string, action: ApprovalAction, code?: string) => void;
}

function TurnView({ sessionId, turn, onDecide }: TurnViewProps) {
  const t = useMessages();
  const running = turn.status === 'running';
  const endStatus = endStatuses[turn.status];
  return (
    <article className="turn">
      <div className="question">{turn.question}</div>
      <div className="response">
        {turn.plan.length > 0 && (
          <div className="plan">
            <strong>{t('plan')}</strong>
            <ol>
              {turn.plan.map((step, index) => (
                <li key={index}>{step}</li>
              ))}
            </ol>
          </div>
        )}
        {turn.codes.map((code, index) => (
          <CodeBlock
            key={index}
            language={code.language}
            code={code.code}
            tool={code.tool}
            findings={code.findings}
            awaiting={code.awaiting}
            {...(code.decision === undefined ? {} : { decision: code.decision })}
            onDecide={(action, edited) => onDecide(code.id, action, edited)}
          />
        ))}
        {turn.codes.length === 0 && turn.sql !== undefined && <CodeBlock language="sql" code={turn.sql} />}
        {sessionId !== null &&
          turn.requests.map((request) =>
            request.kind === 'plan' ? <PlanReviewBox key={request.id} sessionId={sessionId} review={request} running={running} /> : <ShareRequestBox key={request.id} sessionId={sessionId} request={request} running={running} />,
          )}
        {turn.steps.length > 0 && (
          <details className="steps">
            <summary>{t('steps', { count: turn.steps.length })}</summary>
            <ol>
              {turn.steps.map((step) => (
                <li key={step.index} className={step.status === 'ok' ? undefined : 'step-failed'}>
                  <code>{step.tool}</code> {step.output}
                </li>
              ))}
            </ol>
          </details>
        )}
        {turn.notes.map((note, index) => (
          <p key={index} className="note">
            {note}
          </p>
        ))}
        {turn.text !== '' && <div className="answer-text">{turn.text}</div>}
        {turn.unsupported !== undefined && <p className="note unsupported-numbers">{t('unsupportedNumbers', { numbers: turn.unsupported.join(', ') })}</p>}
        {turn.memories?.map((memory) => <ProposedMemory key={memory.id} id={memory.id} note={memory.note} />)}
        {running && !turn.codes.some((code) => code.awaiting) && <div className="working">{t('working')}</div>}
        {turn.table !== undefined && turn.table.columns.length > 0 && <DataTable table={turn.table} />}
        {turn.chart !== undefined && <ChartView spec={chartWithData(turn.chart, turn.table)} />}
        {sessionId !== null && turn.files.filter(isFigure).map((path) => <Figure key={path} sessionId={sessionId} path={path} />)}
        {turn.error !== undefined && (
          <div className="error-box" role="alert">
            <strong>{t('errorTitle')}:</strong> {turn.error.message}
            {turn.error.hint !== undefined && <div className="muted">{turn.error.hint}</div>}
          </div>
        )}
        {!running && endStatus !== undefined && turn.error === undefined && <p className="muted">{t(endStatus)}</p>}
      </div>
    </article>
  );
}

/** Expert mode: the plan waits here, editable one step a line, before anything runs. */
function PlanReviewBox({ sessionId, review, running }: { sessionId: string; review: PlanReview; running: boolean }) {
  const t = useMessages();
  const [text, setText] = useState(review.steps.join('\n'));
  const [decided, setDecided] = useState<'accepted' | 'edited' | 'stopped' | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const steps = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const send = (action: 'run' | 'edit' | 'skip'): void => {
    const edited = steps.join('\n') !== review.steps.join('\n');
    const body = action === 'run' && edited ? { id: review.id, action: 'edit' as const, plan: steps } : { id: review.id, action };
    api.answerApproval(sessionId, body).then(
      () => setDecided(action === 'skip' ? 'stopped' : edited ? 'edited' : 'accepted'),
      (error: Error) => setFailure(error.message),
    );
  };
  const open = decided === null && running;
  return (
    <div className="plan-review">
      <strong>{t('planReview')}</strong>
      {open ? (
        <>
          <textarea className="plan-editor" value={text} rows={Math.max(3, review.steps.length + 1)} onChange={(event) => setText(event.target.value)} aria-label={t('planReview')} />
          <div className="toolbar">
            <button type="button" className="primary" disabled={steps.length === 0} onClick={() => send('run')}>
              {t('planRun')}
            </button>
            <button type="button" onClick={() => send('skip')}>
              {t('planStop')}
            </button>
          </div>
        </>
      ) : (
        <span className="muted">{t(decided === 'stopped' ? 'planStopped' : decided === 'edited' ? 'planEdited' : 'planAccepted')}</span>
      )}
      {failure !== null && <span className="error-text">{failure}</span>}
    </div>
  );
}

/** Schema-only mode: an aggregate the model asks to see; nothing leaves until the user says so. */
function ShareRequestBox({ sessionId, request, running }: { sessionId: string; request: ShareRequest; running: boolean }) {
  const t = useMessages();
  const [decided, setDecided] = useState<'shared' | 'withheld' | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const send = (share: boolean): void => {
    api.answerApproval(sessionId, { id: request.id, action: share ? 'run' : 'skip' }).then(
      () => setDecided(share ? 'shared' : 'withheld'),
      (error: Error) => setFailure(error.message),
    );
  };
  return (
    <div className="share-request">
      <strong>{t('shareRequest', { rows: request.rows })}</strong>
      <pre className="preview-text">{request.preview}</pre>
      {decided === null && running ? (
        <div className="toolbar">
          <button type="button" className="primary" onClick={() => send(true)}>
            {t('shareAllow')}
          </button>
          <button type="button" onClick={() => send(false)}>
            {t('shareDeny')}
          </button>
        </div>
      ) : (
        <span className="muted">{t(decided === 'shared' ? 'shareAllowed' : 'shareDenied')}</span>
      )}
      {failure !== null && <span className="error-text">{failure}</span>}
    </div>
  );
}

/** A note the model proposed to remember: nothing is saved until the user says so. */
function ProposedMemory({ id, note }: { id: string; note: string }) {
  const t = useMessages();
  const [state, setState] = useState<'waiting' | 'saved' | 'discarded'>('waiting');
  const [failure, setFailure] = useState<string | null>(null);
  const decide = (confirm: boolean): void => {
    (confirm ? api.confirmMemory(id) : api.discardMemory(id)).then(
      () => setState(confirm ? 'saved' : 'discarded'),
      (error: Error) => setFailure(error.message),
    );
  };
  return (
    <div className="memory-proposal">
      <span>{t('memoryProposed', { note })}</span>
      {state === 'waiting' ? (
        <span className="toolbar">
          <button type="button" onClick={() => decide(true)}>
            {t('memoryConfirm')}
          </button>
          <button type="button" onClick={() => decide(false)}>
            {t('memoryDiscard')}
          </button>
        </span>
      ) : (
        <span className="muted">{t(state === 'saved' ? 'memorySaved' : 'memoryDiscarded')}</span>
      )}
      {failure !== null && <span className="error-text">{failure}</span>}
    </div>
  );
}

function Composer({ running, onAsk, onStop, onUpload }: { running: boolean; onAsk: (question: string) => void; onStop: () => void; onUpload: (file: File) => void }) {
  const t = useMessages();
  const [question, setQuestion] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const submit = (event?: FormEvent): void => {
    event?.preventDefault();
    const text = question.trim();
    if (text === '' || running) return;
    onAsk(text);
    setQuestion('');
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    // Enter sends, Shift+Enter breaks the line; Enter that ends an input-method composition (pinyin) does neither.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  };
  return (
    <form className="composer" onSubmit={submit}>
      <button type="button" className="icon-button" title={t('attach')} aria-label={t('attach')} onClick={() => fileInput.current?.click()}>
        +
      </button>
      <UploadInput ref={fileInput} onUpload={onUpload} />
      <textarea
        className="question-input"
        value={question}
        placeholder={t('askPlaceholder')}
        aria-label={t('askPlaceholder')}
        rows={Math.min(6, Math.max(1, question.split('\n').length))}
        onChange={(event) => setQuestion(event.target.value)}
        onKeyDown={onKeyDown}
      />
      {running ? (
        <button type="button" className="send" onClick={onStop}>
          {t('stop')}
        </button>
      ) : (
        <button type="submit" className="send primary" disabled={question.trim() === ''}>
          {t('send')}
        </button>
      )}
    </form>
  );
}

/**
 * The app: a side panel (chats, views) beside the chat, the files or the dictionary. It holds the
 * state the views share: the language, the chats, the open chat's turns and the question running.
 */
import { useEffect, useRef, useState } from 'react';
import { ApiError, api, type ApprovalAction, type Health, type SessionSummary } from './api-client';
import { ChatView } from './chat-view';
import { DictionaryView } from './dictionary-view';
import { FilesView } from './files-view';
import { MessagesContext, initialLanguage, rememberLanguage, translator } from './messages';
import { applyEvent, decide, fromStoredTurn, newTurn, type Turn } from './turn';

const views = ['chat', 'files', 'dictionary'] as const;
type View = (typeof views)[number];

const narrowScreen = '(max-width: 760px)';
const isNarrow = (): boolean => window.matchMedia(narrowScreen).matches;

const messageOf = (failure: unknown): string => (failure instanceof Error ? failure.message : String(failure));

export function App() {
  const [language, setLanguage] = useState(initialLanguage);
  const t = translator(language);
  const [health, setHealth] = useState<Health | null>(null);
  const [healthError, setHealthError] = useState<string | null>(null);
  const [sessions, setSessions] = useState<SessionSummary[]>([]);
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [running, setRunning] = useState(false);
  const [view, setView] = useState<View>('chat');
  const [panelOpen, setPanelOpen] = useState(() => !isNarrow());
  const [notice, setNotice] = useState<string | null>(null);
  const [openPath, setOpenPath] = useState<string | null>(null);
  const [filesVersion, setFilesVersion] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);
  const stopper = useRef<AbortController | null>(null);
  // The chat on screen, for a stream that outlives a switch to another chat.
  const shown = useRef<string | null>(null);
  shown.current = sessionId;

  const refreshSessions = (): void => {
    api.listSessions().then(setSessions, () => undefined);
  };

  useEffect(() => {
    document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  }, [language]);

  useEffect(() => {
    api.health().then(setHealth, (failure: unknown) => setHealthError(messageOf(failure)));
    refreshSessions();
  }, []);

  const closePanelOnPhone = (): void => {
    if (isNarrow()) setPanelOpen(false);
  };

  const show = (next: View): void => {
    setView(next);
    closePanelOnPhone();
  };

  const openSession = async (id: string): Promise<void> => {
    shown.current = id;
    setSessionId(id);
    setTurns([]);
    setOpenPath(null);
    setNotice(null);
    show('chat');
    try {
      const session = await api.getSession(id);
      if (shown.current === id) setTurns(session.turns.map(fromStoredTurn));
    } catch (failure) {
      setNotice(messageOf(failure));
    }
  };

  const newChat = (): void => {
    shown.current = null;
    setSessionId(null);
    setTurns([]);
    setOpenPath(null);
    setNotice(null);
    show('chat');
  };

  /** The open chat's id, making the chat on the server first when it is new. */
  const ensureSession = async (): Promise<string> => {
    if (sessionId !== null) return sessionId;
    const created = await api.createSession();
    setSessionId(created.id);
    shown.current = created.id;
    setSessions((list) => [created, ...list]);
    return created.id;
  };

  const updateLastTurn = (id: string, update: (turn: Turn) => Turn): void => {
    if (shown.current !== id) return;
    setTurns((list) => (list.length === 0 ? list : [...list.slice(0, -1), update(list[list.length - 1] as Turn)]));
  };

  const ask = async (question: string): Promise<void> => {
    setNotice(null);
    setRunning(true);
    const controller = new AbortController();
    stopper.current = controller;
    let id: string | null = null;
    try {
      id = await ensureSession();
      setTurns((list) => [...list, newTurn(question)]);
      const session = id;
      await api.ask(session, question, (event) => updateLastTurn(session, (turn) => applyEvent(turn, event)), controller.signal);
      updateLastTurn(session, (turn) => (turn.status === 'running' ? { ...turn, status: 'stopped' } : turn));
    } catch (failure) {
      const stopped = controller.signal.aborted;
      if (id === null) setNotice(messageOf(failure));
      else {
        const error = failure instanceof ApiError ? { code: failure.code, message: failure.message, ...(failure.hint === undefined ? {} : { hint: failure.hint }) } : undefined;
        updateLastTurn(id, (turn) => ({
          ...turn,
          status: stopped ? 'stopped' : 'error',
          ...(stopped || turn.error !== undefined ? {} : { error: error ?? { code: 'stream', message: messageOf(failure) } }),
        }));
      }
    } finally {
      stopper.current = null;
      setRunning(false);
      setFilesVersion((version) => version + 1);
      refreshSessions();
    }
  };

  const onDecide = (turnIndex: number, codeId: string, action: ApprovalAction, code?: string): void => {
    if (sessionId === null) return;
    setTurns((list) => list.map((turn, index) => (index === turnIndex ? decide(turn, codeId, action, code) : turn)));
    api.answerApproval(sessionId, { id: codeId, action, ...(code === undefined ? {} : { code }) }).catch((failure: unknown) => setNotice(messageOf(failure)));
  };

  const upload = async (file: File): Promise<void> => {
    setNotice(t('uploading', { name: file.name }));
    try {
      const id = await ensureSession();
      const stored = await api.uploadFile(id, file);
      setNotice(t('uploaded', { name: stored.name, table: stored.table }));
      setFilesVersion((version) => version + 1);
    } catch (failure) {
      setNotice(messageOf(failure));
    }
  };

  const makeReport = async (): Promise<void> => {
    if (sessionId === null) {
      show('files');
      return;
    }
    setBusy(t('makingReport'));
    show('files');
    try {
      const report = await api.createReport(sessionId);
      // The HTML report has the charts; the Markdown one is the fallback.
      setOpenPath(report.files.find((file) => file.endsWith('/report.html')) ?? report.path);
      setFilesVersion((version) => version + 1);
    } catch (failure) {
      setNotice(messageOf(failure));
    } finally {
      setBusy(null);
    }
  };

  const removeSession = async (id: string): Promise<void> => {
    try {
      await api.deleteSession(id);
      if (id === sessionId) newChat();
      refreshSessions();
    } catch (failure) {
      setNotice(messageOf(failure));
    }
  };

  const switchLanguage = (): void => {
    const next = language === 'zh' ? 'en' : 'zh';
    rememberLanguage(next);
    setLanguage(next);
  };

  const current = sessions.find((session) => session.id === sessionId);
  const title = current === undefined || current.turns === 0 || current.title === '' ? (turns[0]?.question ?? t('untitled')) : current.title;

  return (
    <MessagesContext.Provider value={t}>
      <div className={`app${panelOpen ? ' panel-open' : ''}`}>
        <aside className="side-panel" aria-label={t('chats')}>
          <div className="brand">iquery</div>
          <button type="button" className="new-chat" onClick={newChat}>
            + {t('newChat')}
          </button>
          <nav className="session-list" aria-label={t('chats')}>
            {sessions.length === 0 && <p className="muted small">{t('noChats')}</p>}
            {sessions.map((session) => (
              <div key={session.id} className={`session-item${session.id === sessionId ? ' active' : ''}`}>
                <button type="button" className="session-open" onClick={() => void openSession(session.id)} title={session.title}>
                  {session.turns === 0 || session.title === '' ? t('untitled') : session.title}
                </button>
                <button type="button" className="session-delete" onClick={() => void removeSession(session.id)} title={t('deleteChat')} aria-label={t('deleteChat')}>
                  ×
                </button>
              </div>
            ))}
          </nav>
          <nav className="view-links">
            {views.map((name) => (
              <button key={name} type="button" className={view === name ? 'active' : undefined} onClick={() => show(name)}>
                {t(name)}
              </button>
            ))}
          </nav>
        </aside>
        <div className="backdrop" onClick={() => setPanelOpen(false)} />
        <main className="main">
          <header className="top-bar">
            <button type="button" className="icon-button" onClick={() => setPanelOpen(!panelOpen)} aria-label={t('menu')} title={t('menu')}>
              ☰
            </button>
            <h1 className="title">{view === 'chat' ? title : t(view)}</h1>
            <span className="analyst-badge" title={health?.data ?? ''}>
              {health === null ? '' : health.analyst === 'agent' ? t('model', { model: health.model ?? '' }) : t('offlineAnalyst')}
            </span>
            {view === 'chat' && turns.length > 0 && (
              <button type="button" onClick={() => void makeReport()} disabled={running}>
                {t('report')}
              </button>
            )}
            <button type="button" className="language-toggle" onClick={switchLanguage} title={t('otherLanguageHint')}>
              {t('otherLanguage')}
            </button>
          </header>
          {healthError !== null && (
            <div className="error-box" role="alert">
              {t('serverUnreachable', { message: healthError })}
            </div>
          )}
          {view === 'chat' && (
            <ChatView
              sessionId={sessionId}
              turns={turns}
              running={running}
              notice={notice}
              onAsk={(question) => void ask(question)}
              onStop={() => stopper.current?.abort()}
              onDecide={onDecide}
              onUpload={(file) => void upload(file)}
            />
          )}
          {view !== 'chat' && notice !== null && <div className="notice">{notice}</div>}
          {view === 'files' && (
            <FilesView
              sessionId={sessionId}
              openPath={openPath}
              onOpen={setOpenPath}
              onMakeReport={() => void makeReport()}
              onUpload={(file) => void upload(file)}
              version={filesVersion}
              busy={busy}
            />
          )}
          {view === 'dictionary' && <DictionaryView />}
        </main>
      </div>
    </MessagesContext.Provider>
  );
}
